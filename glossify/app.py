"""The Serve application builder: ``glossify.app:build_app`` in a Serve config."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from glossify.config import load_config
from glossify.deployments.agent import TermExplainer
from glossify.deployments.ingress import GlossifyIngress
from glossify.deployments.ner import TermDetector
from glossify.deployments.stt import Transcriber


def build_app(args: dict[str, Any]) -> Application:
    config = load_config(args)
    detector = TermDetector.bind(config.detector.model_dump())
    explainer = TermExplainer.bind(config.explainer.model_dump())
    transcriber = (
        Transcriber.bind(config.transcriber.model_dump()) if config.transcriber.enabled else None
    )
    return GlossifyIngress.bind(detector, explainer, transcriber, config.model_dump())
