"""The network: a compact wav2vec2 encoder and a feed-forward window decoder with FiLM style.

audio (16 kHz) -> ``transformers.Wav2Vec2Model`` -> features, 50 per second
features + style -> temporal convolutions (each output frame sees a short window of
features), modulated by the style vector through FiLM -> mouth channels in [0, 1]
and viseme logits, one per 20 ms frame.  An auxiliary head classifies the phone at
each frame during training, which keeps the features phonetic and speaker-agnostic.

The audio is padded by half a receptive field on both sides, so feature ``j`` is
centred on the instant ``j / 50`` s, the instant the channel contract gives frame ``j``.

Before either, ``rumble_cutoff_hz`` high-passes the audio (``remove_rumble``): real
recordings often carry DC offset and sub-audio rumble far above the voice, which the
level features would read as speech and the per-frame normalisation would amplify.

With ``loudness_input`` two level features join the encoder's, per frame: the
frame's level and its level below the loud parts of the surrounding 4 s.  The
wav2vec2 conv stack layer-normalises every frame, so it is blind to level, yet the
jaw opens wider on louder syllables.

Requires torch and transformers (training, GPU and pipelines); Blender runs the
exported ONNX model instead.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from types import SimpleNamespace

import torch
from torch import nn

from .contract import HOP, MOUTH_CHANNELS, VISEME_LOSS_WEIGHTS, VISEMES
from .style import STYLE_DIM

RECEPTIVE_FIELD = 400  # samples seen by one feature of the standard wav2vec2 conv stack
LOUDNESS_FEATURES = 2
LEVEL_RANGE_DB = 30.0  # the teacher's: 30 dB below the loud parts reads as quiet
LOUD_PARTS_FRAMES = 100  # +-2 s: the local stand-in for "the utterance's loud parts"
RUMBLE_BOX_FACTOR = 0.58  # a box of L samples, applied twice and subtracted, is -3 dB at 0.58 sr / L


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network (saved as JSON beside the weights)."""

    conv_dim: tuple[int, ...] = (32, 64, 64, 128, 128, 128, 128)  # narrow early layers: 2.4x cheaper on CPU
    hidden_size: int = 256
    encoder_layers: int = 4
    attention_heads: int = 4
    intermediate_size: int = 1024
    pos_conv_kernel: int = 64
    feature_norm: str = "layer"  # per-frame: a feature depends only on its own 25 ms, so chunks have no seams
    decoder_dim: int = 192
    decoder_layers: int = 3
    decoder_kernel: int = 7
    style_hidden: int = 64
    phone_classes: int = 117
    dropout: float = 0.1
    encoder: str = "wav2vec2"  # "wav2vec2", "logmel" (the CNN control), or a pretrained wav2vec2 folder
    logmel_layers: int = 4
    loudness_input: bool = False  # level features beside the encoder's (see the module docstring)
    rumble_cutoff_hz: float = 60.0
    """-3 dB point of the input high-pass (0: none).  Configs written before this field
    existed had none."""
    channels: tuple[str, ...] = field(default_factory=lambda: MOUTH_CHANNELS)
    visemes: tuple[str, ...] = field(default_factory=lambda: VISEMES)
    style_dim: int = STYLE_DIM
    viseme_loss_weights: dict[str, float] = field(default_factory=lambda: dict(VISEME_LOSS_WEIGHTS))
    """Class weights the viseme head was trained with; inference divides them out.  Configs
    written before this field existed were trained with the default."""

    def to_json(self) -> dict:
        return asdict(self)

    def weights_config(self) -> ModelConfig:
        """This config without the settings that have no weights (the input filter), so that
        models which share weights compare equal whatever their filter."""
        return replace(self, rumble_cutoff_hz=0.0)

    @classmethod
    def from_json(cls, data: dict) -> ModelConfig:
        tuples = {k: tuple(v) for k, v in data.items() if isinstance(v, list)}
        return cls(**{"rumble_cutoff_hz": 0.0, **data, **tuples})

    def wav2vec2_config(self):
        from transformers import Wav2Vec2Config

        return Wav2Vec2Config(
            hidden_size=self.hidden_size,
            num_hidden_layers=self.encoder_layers,
            num_attention_heads=self.attention_heads,
            intermediate_size=self.intermediate_size,
            conv_dim=self.conv_dim,
            conv_stride=(5, 2, 2, 2, 2, 2, 2),
            conv_kernel=(10, 3, 3, 3, 3, 2, 2),
            feat_extract_norm=self.feature_norm,
            num_conv_pos_embeddings=self.pos_conv_kernel,
            num_conv_pos_embedding_groups=16,
            hidden_dropout=self.dropout,
            attention_dropout=self.dropout,
            activation_dropout=0.0,
            feat_proj_dropout=0.0,
            layerdrop=0.0,
            apply_spec_augment=True,
            mask_time_prob=0.05,
            mask_time_length=5,
            vocab_size=self.phone_classes,
        )


def pad_for_features(audio: torch.Tensor) -> torch.Tensor:
    """Half a receptive field of silence before (so feature j is centred on sample 320 j)
    and enough after that the last full 20 ms frame still gets its feature."""
    half = RECEPTIVE_FIELD // 2
    return nn.functional.pad(audio, (half, half + HOP))


def remove_rumble(audio: torch.Tensor, cutoff_hz: float, sample_rate: int = 16000) -> torch.Tensor:
    """(B, samples) -> the same minus a triangle-smoothed copy: a zero-phase high-pass.

    -3 dB at ``cutoff_hz``, 12 dB per octave below it (-18 dB at a third of it), within
    0.5 dB from 1.4 x the cutoff up; DC is removed exactly.  The triangle reaches
    ``0.58 sr / cutoff`` samples either way (10 ms at 60 Hz), so chunked encoding with
    context has no seams; the ends are extended with their edge values.
    """
    if audio.shape[-1] == 0:  # nothing to filter (and nothing to pad from)
        return audio
    box = max(2, round(RUMBLE_BOX_FACTOR * sample_rate / cutoff_hz))
    smooth = nn.functional.pad(audio[:, None], (box - 1, box - 1), mode="replicate")
    for _ in range(2):  # two boxes make a centred triangle of 2 * box - 1 samples
        smooth = _box_mean(smooth, box)
    return audio - smooth[:, 0]


def _box_mean(x: torch.Tensor, box: int) -> torch.Tensor:
    """Means of ``box`` consecutive samples of (B, 1, n) -> (B, 1, n - box + 1).

    Factored as a box of ``short`` and a dilated box of ``box // short`` taps (155 = 5 x 31:
    36 operations a sample instead of 155; onnxruntime's pooling is not O(1) per sample)."""
    short = max(d for d in range(1, math.isqrt(box) + 1) if box % d == 0)
    x = nn.functional.avg_pool1d(x, short, 1) if short > 1 else x
    taps = box // short
    weight = torch.full((1, 1, taps), 1.0 / taps, dtype=x.dtype, device=x.device)
    return nn.functional.conv1d(x, weight, dilation=short)


def loudness_features(audio: torch.Tensor, frames: int) -> torch.Tensor:
    """(B, samples) 16 kHz -> (B, frames, 2) in [0, 1], frame ``j`` centred on ``j / 50`` s.

    Column 0 is the absolute level (-70 dBFS -> 0, 0 dBFS -> 1); column 1 is the level
    relative to the loudest frame within +-2 s (30 dB below -> 0).  Both depend on
    audio within 2 s only, so chunked encoding has no seams.
    """
    power = nn.functional.avg_pool1d(pad_for_features(audio)[:, None] ** 2, RECEPTIVE_FIELD, HOP)
    db = 10 * torch.log10(power + 1e-10)  # sliced to ``frames`` last: never empty while pooling
    smooth = nn.functional.avg_pool1d(db, 3, 1, padding=1, count_include_pad=False)
    loud_parts = nn.functional.max_pool1d(smooth, 2 * LOUD_PARTS_FRAMES + 1, 1, padding=LOUD_PARTS_FRAMES)
    level = torch.clamp((db + 70.0) / 70.0, 0.0, 1.0)
    relative = torch.clamp((db - loud_parts + LEVEL_RANGE_DB) / LEVEL_RANGE_DB, 0.0, 1.0)
    return torch.cat([level, relative], dim=1).transpose(1, 2)[:, :frames]


def mel_filterbank(sample_rate: int = 16000, n_fft: int = 400, n_mels: int = 80) -> torch.Tensor:
    """(n_fft // 2 + 1, n_mels) triangular HTK mel filters, 0 Hz to Nyquist."""
    mel = torch.linspace(0.0, 2595.0 * math.log10(1 + sample_rate / 2 / 700.0), n_mels + 2)
    hz = 700.0 * (10 ** (mel / 2595.0) - 1)
    bins = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1)[:, None]
    lo, centre, hi = hz[:-2], hz[1:-1], hz[2:]
    rising = (bins - lo) / (centre - lo)
    falling = (hi - bins) / (hi - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0)


class LogMelEncoder(nn.Module):
    """The control: 80-bin log-mel every 10 ms + a 1D CNN, strided to 50 features per second.

    STFT frames are centred on sample 160 i and the stride-2 conv keeps every second one,
    so feature j is centred on sample 320 j, like the wav2vec2 path.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.hidden_size
        self.config = SimpleNamespace(hidden_size=d)
        self.register_buffer("window", torch.hann_window(400), persistent=False)
        self.register_buffer("mel", mel_filterbank(), persistent=False)
        layers: list[nn.Module] = [
            nn.Conv1d(80, d, 5, padding=2),
            nn.GELU(),
            nn.Conv1d(d, d, 5, stride=2, padding=2),
        ]
        for _ in range(cfg.logmel_layers - 2):
            layers += [nn.GELU(), nn.Conv1d(d, d, 5, padding=2)]
        self.cnn = nn.Sequential(*layers, nn.GELU())
        self.norm = nn.LayerNorm(80)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(audio, 400, 160, window=self.window, center=True, return_complex=True).abs() ** 2
        logmel = torch.log(spec.transpose(1, 2) @ self.mel + 1e-6)  # (B, frames, 80)
        return self.cnn(self.norm(logmel).transpose(1, 2)).transpose(1, 2)


class FiLM(nn.Module):
    """Feature-wise affine modulation by the style embedding (identity at zero style)."""

    def __init__(self, style_hidden: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(style_hidden, 2 * dim)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.proj(style).unsqueeze(-1).chunk(2, dim=1)
        return x * (1 + gamma) + beta


class WindowDecoder(nn.Module):
    """Residual temporal convolutions over encoder features, FiLM after each."""

    def __init__(self, cfg: ModelConfig, feature_size: int) -> None:
        super().__init__()
        d = cfg.decoder_dim
        self.inp = nn.Conv1d(feature_size, d, 1)
        self.convs = nn.ModuleList(
            nn.Conv1d(d, d, cfg.decoder_kernel, padding=cfg.decoder_kernel // 2)
            for _ in range(cfg.decoder_layers)
        )
        self.films = nn.ModuleList(FiLM(cfg.style_hidden, d) for _ in range(cfg.decoder_layers))
        self.style = nn.Sequential(
            nn.Linear(cfg.style_dim, cfg.style_hidden),
            nn.GELU(),
            nn.Linear(cfg.style_hidden, cfg.style_hidden),
        )
        self.act = nn.GELU()
        self.drop = nn.Dropout(cfg.dropout)
        self.channels = nn.Conv1d(d, len(cfg.channels), 1)
        self.visemes = nn.Conv1d(d, len(cfg.visemes), 1)

    def forward(self, features: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features (B, T, F), style (B, S) -> channels (B, T, C) in [0, 1], viseme logits (B, T, V)."""
        return self.styled(self.style_free(features), style)

    def style_free(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, F) -> (B, T, 2 * decoder_dim): the input projection and the first layer's
        convolution, the part no style changes (the first FiLM comes after it), so re-styling
        cached audio skips a third of the decoder."""
        if features.shape[1] == 0:  # under one frame of audio: convolutions refuse empty input
            return features.new_zeros(features.shape[0], 0, 2 * self.inp.out_channels)
        x = self.inp(features.transpose(1, 2))
        return torch.cat([x, self.act(self.convs[0](x))], dim=1).transpose(1, 2)

    def styled(self, hidden: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`style_free`'s output (B, T, 2 * decoder_dim), style (B, S) -> channels, viseme logits."""
        s = self.style(style)
        x, first = hidden.transpose(1, 2).chunk(2, dim=1)
        x = x + self.drop(self.films[0](first, s))
        for conv, film in zip(self.convs[1:], self.films[1:], strict=True):
            x = x + self.drop(film(self.act(conv(x)), s))
        return torch.sigmoid(self.channels(x)).transpose(1, 2), self.visemes(x).transpose(1, 2)


class LipSyncModel(nn.Module):
    """Encoder + decoder + auxiliary phone head."""

    def __init__(self, cfg: ModelConfig, encoder: nn.Module | None = None) -> None:
        super().__init__()
        from transformers import Wav2Vec2Model

        self.cfg = cfg
        if encoder is not None:
            self.encoder = encoder
        elif cfg.encoder == "logmel":
            self.encoder = LogMelEncoder(cfg)
        elif cfg.encoder == "wav2vec2":
            self.encoder = Wav2Vec2Model(cfg.wav2vec2_config())
        else:  # a pretrained Hugging Face wav2vec2 folder: weights from safetensors only, kept frozen
            self.encoder = Wav2Vec2Model.from_pretrained(cfg.encoder, use_safetensors=True)
            self.encoder.requires_grad_(False)
        feature_size = self.encoder.config.hidden_size
        extra = LOUDNESS_FEATURES if cfg.loudness_input else 0
        self.decoder = WindowDecoder(cfg, feature_size + extra)
        self.phone_head = nn.Linear(feature_size, cfg.phone_classes)

    @property
    def frozen_encoder(self) -> bool:
        return not any(p.requires_grad for p in self.encoder.parameters())

    def train(self, mode: bool = True) -> LipSyncModel:
        """A frozen pretrained encoder stays in eval mode (no dropout, no masking)."""
        super().train(mode)
        if self.frozen_encoder:
            self.encoder.eval()
        return self

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, samples) 16 kHz -> (B, samples // 320, F): feature j centred at j / 50 s."""
        frames = audio.shape[-1] // HOP
        if self.cfg.rumble_cutoff_hz > 0:
            audio = remove_rumble(audio, self.cfg.rumble_cutoff_hz)
        if isinstance(self.encoder, LogMelEncoder):
            features = self.encoder(audio)[:, :frames]
        else:
            features = self.encoder(pad_for_features(audio)).last_hidden_state[:, :frames]
        if self.cfg.loudness_input:
            features = torch.cat([features, loudness_features(audio, frames)], dim=-1)
        return features

    def style_free(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, samples) 16 kHz -> what inference caches per audio: the encoder features through the
        decoder's style-free first layer (:meth:`WindowDecoder.style_free`)."""
        return self.decoder.style_free(self.encode(audio))

    def forward(self, audio: torch.Tensor, style: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.encode(audio)
        channels, viseme_logits = self.decoder(features, style)
        return {
            "channels": channels,
            "viseme_logits": viseme_logits,
            "phone_logits": self.phone_head(features[..., : self.encoder.config.hidden_size]),
            "features": features,
        }
