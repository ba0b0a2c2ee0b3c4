"""tf.train: checkpoints and training utilities (re-exports only)."""

# -- checkpoint files: safetensors [bundle helper] ----------------------------------------------
from featherflow._src.train.safetensors import load_safetensors as load_safetensors
from featherflow._src.train.safetensors import save_safetensors as save_safetensors
