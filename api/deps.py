"""Annotated dependency aliases: routers declare what they need, the lifespan provides it."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.services import Services
from rag.settings import Settings


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_settings(request: Request) -> Settings:
    return request.app.state.services.settings


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
