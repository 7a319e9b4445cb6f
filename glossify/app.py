"""The Serve application builder: ``glossify.app:build_app`` in a Serve config."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from glossify.config import load_config
from glossify.deployments.agent import TermExplainer
from glossify.deployments.ingress import GlossifyIngress
from glossify.deployments.ner import TermDetector


def build_app(args: dict[str, Any]) -> Application:
    config = load_config(args)
    detector = TermDetector.bind(config.detector.model_dump())
    explainer = TermExplainer.bind(config.explainer.model_dump())
    return GlossifyIngress.bind(detector, explainer, config.model_dump())
