"""Notes written for the section and title tests, one per format: short sections that the
chunker merges into one chunk, a code block with a ``#`` comment, HTML h2/h3, a deck with
speaker notes, a Word file with heading levels. Each sentence a test asks about lies in one
known section (``EXPECTED``)."""
from __future__ import annotations

from tests.office_files import docx_bytes, pptx_bytes

MD = """# 세포 호흡 정리

## 해당과정
포도당 한 분자는 세포질에서 피루브산 두 분자로 쪼개진다.

## 시트르산 회로
시트르산 회로는 미토콘드리아 기질에서 돈다.

### 아세틸 CoA
피루브산은 아세틸 CoA로 바뀌어 회로에 들어간다.

### 회로의 산물
회로가 한 바퀴 돌 때마다 NADH 세 분자가 만들어진다.

## 전자 전달계
산소는 전자 전달계의 마지막 전자 수용체다.
"""

TXT = """토크나이저 실습 기록

## 토크나이저 설치
실습에는 센텐스피스 패키지를 쓴다.

```bash
# 가상환경 안에서 설치
pip install sentencepiece
```

## 어휘 크기 정하기
어휘 크기는 한국어 말뭉치에서 보통 삼만 개 정도로 잡는다.
"""

HTML = ("<html><head><title>컴파일러 수업 정리</title></head><body><h1>컴파일러</h1>"
        "<h2>어휘 분석</h2><p>어휘 분석기는 소스 문자열을 토큰으로 자른다.</p>"
        "<h3>정규 표현식</h3><p>토큰의 모양은 정규 표현식으로 적고 유한 오토마타로 바꾼다.</p>"
        "<h2>구문 분석</h2><p>구문 분석기는 토큰 열로 파스 트리를 만든다.</p></body></html>")


def pptx() -> bytes:
    return pptx_bytes([
        {"title": "큐비트", "body": ["큐비트는 양자 컴퓨터의 정보 단위이다."],
         "notes": "큐비트는 측정하기 전까지 영과 일의 중첩 상태에 있다고 설명한다."},
        {"title": "양자 얽힘", "body": ["얽힌 두 큐비트는 멀리 떨어져도 측정 결과가 함께 정해진다."]},
    ], title="양자 컴퓨팅 입문")


def docx() -> bytes:
    return docx_bytes([
        ("h1", "운영체제"), ("p", "운영체제는 하드웨어 자원을 프로그램에 나눠 준다."),
        ("h2", "스케줄링"), ("p", "라운드 로빈은 시간 조각을 프로세스마다 돌아가며 준다."),
        ("h3", "선점"), ("p", "선점형 스케줄러는 실행 중인 프로세스를 타이머 인터럽트로 멈출 수 있다."),
        ("h2", "가상 메모리"), ("p", "페이지 테이블은 가상 주소를 물리 주소로 옮긴다."),
    ], title="운영체제 요약")


def files() -> dict[str, bytes]:
    """File name -> bytes of the five notes."""
    return {"세포호흡.md": MD.encode(), "토크나이저.txt": TXT.encode(), "컴파일러.html": HTML.encode(),
            "양자.pptx": pptx(), "운영체제.docx": docx()}


# (document, question, a phrase of the sentence that answers it, the section path holding it)
EXPECTED = [
    ("세포호흡.md", "피루브산은 무엇으로 바뀌어 시트르산 회로에 들어가?", "아세틸 CoA로 바뀌어",
     ("세포 호흡 정리", "시트르산 회로", "아세틸 CoA")),
    ("세포호흡.md", "시트르산 회로가 한 바퀴 돌 때 NADH는 몇 분자 만들어져?", "NADH 세 분자",
     ("세포 호흡 정리", "시트르산 회로", "회로의 산물")),
    ("토크나이저.txt", "토크나이저 어휘 크기는 보통 몇 개로 잡아?", "삼만 개",
     ("어휘 크기 정하기",)),  # the title line is no heading: as long as the heading after it
    ("컴파일러.html", "토큰의 모양은 무엇으로 적어?", "정규 표현식으로 적고", ("컴파일러", "어휘 분석", "정규 표현식")),
    ("양자.pptx", "큐비트는 측정하기 전까지 어떤 상태에 있어?", "중첩 상태", ("큐비트", "Speaker notes")),
    ("운영체제.docx", "선점형 스케줄러는 실행 중인 프로세스를 무엇으로 멈춰?", "타이머 인터럽트",
     ("운영체제", "스케줄링", "선점")),
]

TITLES = {"세포호흡.md": "세포 호흡 정리", "토크나이저.txt": "토크나이저 실습 기록", "컴파일러.html": "컴파일러 수업 정리",
          "양자.pptx": "양자 컴퓨팅 입문", "운영체제.docx": "운영체제 요약"}
