"""Evaluation of a trained model: label-free clustering by Q, and the MI bound on fresh samples."""

from .clustering import ClusterScore, cluster_score
from .evaluate import evaluate

__all__ = ["ClusterScore", "cluster_score", "evaluate"]
