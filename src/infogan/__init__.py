"""InfoGAN (Chen et al., 2016) in PyTorch: interpretable latent codes learned without labels."""

__version__ = "0.1.0"

from .codes import CodeSpec, Latent, LatentSpec  # noqa: E402
from .config import Config, preset  # noqa: E402
from .runs import load_model  # noqa: E402

__all__ = ["CodeSpec", "Config", "Latent", "LatentSpec", "load_model", "preset", "__version__"]
