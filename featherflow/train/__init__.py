"""tf.train: checkpoints and training utilities (re-exports only)."""

# -- checkpoint files: safetensors ----------------------------------------------
from featherflow._src.train.safetensors import load_safetensors as load_safetensors
from featherflow._src.train.safetensors import save_safetensors as save_safetensors

# -- object-based checkpoints -----------------------------------------------
from featherflow._src.train.checkpoint import Checkpoint as Checkpoint
from featherflow._src.train.checkpoint import CheckpointOptions as CheckpointOptions
from featherflow._src.train.manager import CheckpointManager as CheckpointManager
from featherflow._src.train.reader import list_variables as list_variables
from featherflow._src.train.reader import load_checkpoint as load_checkpoint
from featherflow._src.train.state import CheckpointState as CheckpointState
from featherflow._src.train.state import get_checkpoint_state as get_checkpoint_state
from featherflow._src.train.state import latest_checkpoint as latest_checkpoint
