"""A network small enough for tests (same code as the shipped one, fewer and narrower layers)."""

from blender_lipsync.core.model import ModelConfig
from lipsync_train.dataset import PHONE_CLASSES

SMALL = ModelConfig(
    hidden_size=64,
    encoder_layers=1,
    attention_heads=2,
    intermediate_size=128,
    conv_dim=(16, 16, 16, 16, 16, 16, 32),
    decoder_dim=32,
    decoder_layers=2,
    phone_classes=len(PHONE_CLASSES),
    loudness_input=True,
)
