"""What a categorical code got wrong, read off its confusion matrix: labels that share one code
value (merged), labels spread over several values (split), and values that no label calls home."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHARE = 0.2  # a code value "holds" a label when it gets at least this share of the label's images


@dataclass(frozen=True)
class Diagnosis:
    merged: dict[int, list[int]]  # code value -> the 2+ labels it holds
    split: dict[int, list[int]]  # label -> the 2+ code values holding it
    idle: list[int]  # code values that hold no label

    @property
    def clean(self) -> bool:
        return not (self.merged or self.split)

    def line(self, code: str = "code") -> str:
        """One line, e.g. ``merged: 4+9 in cat0=3; split: 9 over cat0=3,5; idle: cat0=8``."""
        if self.clean:
            return f"every label has its own {code} value"
        parts = []
        if self.merged:
            parts.append("merged: " + ", ".join(f"{'+'.join(map(str, ls))} in {code}={v}" for v, ls in self.merged.items()))
        if self.split:
            parts.append("split: " + ", ".join(f"{lab} over {code}={','.join(map(str, vs))}" for lab, vs in self.split.items()))
        if self.idle:
            parts.append(f"idle: {code}=" + ",".join(map(str, self.idle)))
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {"merged": {str(v): ls for v, ls in self.merged.items()},
                "split": {str(lab): vs for lab, vs in self.split.items()}, "idle": self.idle}


def diagnose(confusion: np.ndarray, share: float = SHARE) -> Diagnosis:
    """``confusion``: counts [code values, labels]."""
    conf = np.asarray(confusion, dtype=np.float64)
    per_label = conf.sum(0, keepdims=True)
    holds = conf >= share * np.where(per_label > 0, per_label, np.inf)  # [value, label]
    merged = {v: np.flatnonzero(holds[v]).tolist() for v in range(conf.shape[0]) if holds[v].sum() > 1}
    split = {lab: np.flatnonzero(holds[:, lab]).tolist() for lab in range(conf.shape[1]) if holds[:, lab].sum() > 1}
    idle = [v for v in range(conf.shape[0]) if not holds[v].any()]
    return Diagnosis(merged, split, idle)
