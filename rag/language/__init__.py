"""The language helpers: what the query side knows of Korean and English text.

One module per concern, all built on Kiwi's morphemes (``korean``):
- ``korean``: the Kiwi analyser, language detection, morphemes and lexical tokens;
- ``sentences``: sentence splitting (Kiwi's splitter within lines);
- ``phrases``: noun phrases (the one noun-phrase function) and a question's focus;
- ``names``: names across scripts by consonant skeleton ("드롭아웃"/"dropout");
- ``numerals``: dates, counts and quantities, native and Sino-Korean;
- ``glossary``: cross-lingual expansion from ``rag/data/glossary.tsv``;
- ``query``: the analysed question (concepts, tokens, weights);
- ``intent``: what a question asks for and about what (its parts, kinds, focus, attribute);
- ``references``: what a follow-up refers to (ordinals, pronouns, a question with no subject).
"""
