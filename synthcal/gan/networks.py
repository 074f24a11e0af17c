"""DiStyleGAN networks (Masouris et al., Sec. 3.2.3), with the authors' ``state_dict`` layout.

Generator: noise -> Linear + BN + GLU (``project``) -> concatenated with the one-hot label -> Linear + BN + GLU
(``fc``) -> 4x4 map -> three blocks of nearest x2 upsampling, 3x3 conv (no bias), BN, GLU -> 3x3 conv + tanh.
GLU halves the channels. Defaults ``ngf=256, z_dim=512, c_dim=10, project_dim=128`` give 2,054,368 parameters.

Discriminator: four spectrally normalised 4x4/stride-2 convolutions with LeakyReLU(0.2) (their outputs are the
feature maps of the feature-distillation loss), a spectrally normalised projection + GLU, concatenation with the
one-hot label and a final linear layer (no sigmoid). ``ndf=128`` gives 3,415,178 parameters.

The generator's keys equal the authors' (``project.0.weight``, ``fc.1.running_mean``, ``upsample1.1.weight``, ...,
``img.0.weight``), so their released ``generator.pt`` + ``config.json`` load unchanged (:func:`load_released`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import spectral_norm

#: Keys of the authors' config.json (generation/distylegan.py).
RELEASED_CONFIG_KEYS = ("c_dim", "z_dim", "ngf", "ndf", "lambda_pixel", "lambda_ganG", "lambda_ganD",
                        "project_dim", "nc")


def _init(module: nn.Module) -> None:
    """The authors' initialisation: orthogonal weights, zero biases, BN weight ~ N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.orthogonal_(module.weight, 1.0)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _up_block(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels), nn.GLU(dim=1))


class Generator(nn.Module):
    """DiStyleGAN generator: ``forward(z, onehot) -> images (B, 3, 32, 32)`` in (-1, 1)."""

    def __init__(self, ngf: int = 256, z_dim: int = 512, c_dim: int = 10, project_dim: int = 128) -> None:
        super().__init__()
        if ngf % 8:
            raise ValueError(f"ngf must be a multiple of 8 (three GLU halvings), got {ngf}")
        self.ngf, self.z_dim, self.c_dim, self.project_dim = ngf, z_dim, c_dim, project_dim
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * project_dim, bias=False), nn.BatchNorm1d(2 * project_dim),
                                     nn.GLU(dim=1))
        self.fc = nn.Sequential(nn.Linear(project_dim + c_dim, ngf * 4 * 4 * 2, bias=False),
                                nn.BatchNorm1d(ngf * 4 * 4 * 2), nn.GLU(dim=1))
        self.upsample1 = _up_block(ngf)
        self.upsample2 = _up_block(ngf // 2)
        self.upsample3 = _up_block(ngf // 4)
        self.img = nn.Sequential(nn.Conv2d(ngf // 8, 3, 3, 1, 1, bias=False), nn.Tanh())
        self.apply(_init)

    def forward(self, z: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        h = torch.cat((self.project(z), onehot), dim=1)  # noise first, label second (as the authors)
        h = self.fc(h).view(-1, self.ngf, 4, 4)
        return self.img(self.upsample3(self.upsample2(self.upsample1(h))))


class Discriminator(nn.Module):
    """DiStyleGAN discriminator: ``forward(x, onehot) -> (logits (B, 1), [4 feature maps])``."""

    def __init__(self, ndf: int = 128, c_dim: int = 10, project_dim: int = 128) -> None:
        super().__init__()
        chans = [3, ndf, ndf, 2 * ndf, 4 * ndf]
        blocks = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            conv = nn.Conv2d(cin, cout, 4, 2, 1, bias=True)
            _init(conv)
            blocks.append(nn.Sequential(spectral_norm(conv), nn.LeakyReLU(0.2, inplace=False)))
        self.netD = nn.Sequential(*blocks)
        proj = nn.Linear(4 * ndf * 2 * 2, 2 * project_dim, bias=False)
        _init(proj)
        self.project = nn.Sequential(spectral_norm(proj), nn.GLU(dim=1))
        self.output = nn.Linear(project_dim + c_dim, 1, bias=False)
        _init(self.output)

    def forward(self, x: torch.Tensor, onehot: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features = []
        h = x
        for block in self.netD:
            h = block(h)
            features.append(h)
        h = self.project(torch.flatten(h, 1))
        return self.output(torch.cat((h, onehot), dim=1)), features


class ProjectionDiscriminator(nn.Module):
    """A class-conditional projection discriminator (Miyato & Koyama, 2018) with spectral normalisation, for the
    offline teacher: SNGAN's standard CNN for 32x32 (3x3 and 4x4/stride-2 convolutions, LeakyReLU 0.1, widths ndf to
    8 ndf), global sum pooling to h, and ``logit = w . h + <embed(y), h>``, so the class enters through an inner
    product with the image features rather than a per-class bias.

    ``forward(x, onehot) -> (logits (B, 1), [feature maps after each stride])``, the interface of
    :class:`Discriminator`.
    """

    def __init__(self, ndf: int = 64, c_dim: int = 10) -> None:
        super().__init__()
        widths = [(3, ndf, 3, 1), (ndf, ndf, 4, 2), (ndf, 2 * ndf, 3, 1), (2 * ndf, 2 * ndf, 4, 2),
                  (2 * ndf, 4 * ndf, 3, 1), (4 * ndf, 4 * ndf, 4, 2), (4 * ndf, 8 * ndf, 3, 1)]
        layers = []
        for cin, cout, k, stride in widths:
            conv = nn.Conv2d(cin, cout, k, stride, 1)
            _init(conv)
            layers.append(spectral_norm(conv))
        self.convs = nn.ModuleList(layers)
        self.linear = spectral_norm(nn.Linear(8 * ndf, 1))
        self.embed = spectral_norm(nn.Linear(c_dim, 8 * ndf, bias=False))
        for layer in (self.linear, self.embed):
            nn.init.orthogonal_(layer.weight_orig if hasattr(layer, "weight_orig") else layer.weight)

    def forward(self, x: torch.Tensor, onehot: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features = []
        h = x
        for conv in self.convs:
            h = nn.functional.leaky_relu(conv(h), 0.1)
            if conv.stride[0] == 2:
                features.append(h)
        features.append(h)
        h = h.sum(dim=(2, 3))
        return self.linear(h) + (self.embed(onehot) * h).sum(dim=1, keepdim=True), features


class FeatureNetwork:
    """A frozen pretrained classifier that helps train a generator (``teacher.trained.feature_network``): its
    logits and its intermediate feature maps of images in [-1, 1], normalised as the classifier expects.

    The feature maps are the last output of each spatial resolution of at least 8x8 among the network's top-level
    blocks (for a CIFAR ResNet: the outputs of its three stages, 32x32, 16x16 and 8x8, not the pooled 1x1), taken
    with forward hooks in the same pass as the logits. The network is put in eval mode with every parameter frozen,
    and is not a submodule of anything trained, so no optimizer or checkpoint ever holds it.
    """

    def __init__(self, module: nn.Module, mean: list[float] | tuple[float, ...], std: list[float] | tuple[float, ...],
                 name: str = "feature network") -> None:
        self.module = module.eval().requires_grad_(False)
        self.name = name
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        self._outputs: list[torch.Tensor] = []
        blocks = list(self.module.named_children())
        with torch.no_grad():
            shapes = {}
            hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape)))
                     for n, m in blocks]
            self.module(torch.zeros(1, 3, 32, 32))
            for hook in hooks:
                hook.remove()
        last_of_size: dict[tuple[int, int], str] = {}
        for name_, _ in blocks:  # top-level order is forward order for these networks
            shape = shapes.get(name_)
            if shape is not None and len(shape) == 4 and min(shape[2:]) >= 8:  # a head halves its map once
                last_of_size[shape[2:]] = name_
        self.taps = list(last_of_size.values())
        self.channels = [shapes[n][1] for n in self.taps]
        if not self.taps:
            raise ValueError(f"{name} has no top-level block with a 4-D output of at least 8x8: no feature maps to "
                             "discriminate on")
        modules = dict(blocks)
        for n in self.taps:
            modules[n].register_forward_hook(lambda m, i, o: self._outputs.append(o))

    def to(self, device: torch.device) -> FeatureNetwork:
        self.module.to(device)
        self.mean, self.std = self.mean.to(device), self.std.to(device)
        return self

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(logits, feature maps) of images in [-1, 1] (gradients flow to the images, never to the network)."""
        self._outputs = []
        logits = self.module(((images + 1) / 2 - self.mean) / self.std)
        features, self._outputs = self._outputs, []
        return logits, features

    def digest(self) -> str:
        """sha256 of the network's parameters and buffers (what makes a training run's fingerprint)."""
        h = hashlib.sha256()
        for key, value in sorted(self.module.state_dict().items()):
            h.update(key.encode())
            h.update(value.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()


class ProjectedDiscriminator(nn.Module):
    """A discriminator on the frozen features of a pretrained classifier (the idea of Projected and Vision-aided
    GANs: Sauer et al. 2021, Kumari et al. 2022): one small trainable head per feature map (spectrally normalised
    3x3 and 4x4/stride-2 convolutions, LeakyReLU, global average pooling), each class-conditional by projection
    (``w . h + <embed(y), h>``), their logits summed.

    ``forward(x, onehot) -> (logits (B, 1), [head features])``, the interface of :class:`Discriminator`; the feature
    network is held by reference (``features``), never as a submodule.
    """

    def __init__(self, features: FeatureNetwork, ndf: int = 64, c_dim: int = 10) -> None:
        super().__init__()
        self.features = [features]
        self.heads = nn.ModuleList()
        self.linears = nn.ModuleList()
        self.embeds = nn.ModuleList()
        for channels in features.channels:
            convs = [nn.Conv2d(channels, ndf, 3, 1, 1), nn.Conv2d(ndf, 2 * ndf, 4, 2, 1)]
            for conv in convs:
                _init(conv)
            self.heads.append(nn.ModuleList(spectral_norm(c) for c in convs))
            self.linears.append(spectral_norm(nn.Linear(2 * ndf, 1)))
            self.embeds.append(spectral_norm(nn.Linear(c_dim, 2 * ndf, bias=False)))

    def forward(self, x: torch.Tensor, onehot: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.discriminate(self.features[0](x)[1], onehot)

    def discriminate(self, maps: list[torch.Tensor], onehot: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The heads on feature maps already computed (the generator step reuses the pass that gives the frozen
        classifier's logits)."""
        logits, out = 0, []
        for fmap, head, linear, embed in zip(maps, self.heads, self.linears, self.embeds, strict=True):
            h = fmap
            for conv in head:
                h = nn.functional.leaky_relu(conv(h), 0.2)
            out.append(h)
            pooled = h.mean(dim=(2, 3))  # mean, not sum: the frozen maps are not normalised, and differ in size
            logits = logits + linear(pooled) + (embed(onehot) * pooled).sum(dim=1, keepdim=True)
        return logits, out


def resolve_device(device: str) -> torch.device:
    """``"auto"`` picks CUDA when available; ``"cuda"`` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available; use 'auto' or 'cpu'")
    return torch.device(device)


def one_hot(labels: torch.Tensor, c_dim: int = 10) -> torch.Tensor:
    """Float one-hot rows for integer labels."""
    return nn.functional.one_hot(labels.long(), c_dim).float()


def released_config(generator: Generator, ndf: int, lambdas: dict[str, float]) -> dict:
    """The 9-key ``config.json`` the authors ship beside ``generator.pt``."""
    return {"c_dim": generator.c_dim, "z_dim": generator.z_dim, "ngf": generator.ngf, "ndf": ndf,
            "lambda_pixel": lambdas.get("pixel", 0.2), "lambda_ganG": lambdas.get("adv_kd", 0.01),
            "lambda_ganD": lambdas.get("gan_d", 0.2), "project_dim": generator.project_dim, "nc": 3}


def released_files(path: str | Path) -> tuple[Path, Path]:
    """(``config.json``, ``generator.pt``) of a generator released in the authors' format, given its folder or
    its ``generator.pt``."""
    path = Path(path)
    folder = path.parent if path.name == "generator.pt" else path
    return folder / "config.json", folder / "generator.pt"


def load_released(path: str | Path, map_location: str | torch.device = "cpu") -> Generator:
    """Load a generator released in the authors' format: ``generator.pt`` (state_dict) + ``config.json``, given
    their folder or the ``generator.pt`` path.

    Raises:
        FileNotFoundError / ValueError: naming the missing file or the bad config.
    """
    cfg_path, weights = released_files(path)
    for path in (cfg_path, weights):
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: a released DiStyleGAN needs generator.pt and config.json")
    try:
        cfg = json.loads(cfg_path.read_text())
    except ValueError as exc:
        raise ValueError(f"{cfg_path} is not valid JSON ({exc}): expected the released config.json") from exc
    if not isinstance(cfg, dict):
        raise ValueError(f"{cfg_path} holds a {type(cfg).__name__}, expected an object with ngf, z_dim, c_dim, "
                         "project_dim")
    missing = [k for k in ("ngf", "z_dim", "c_dim", "project_dim") if k not in cfg]
    if missing:
        raise ValueError(f"{cfg_path} lacks {', '.join(missing)}")
    bad = [k for k in ("ngf", "z_dim", "c_dim", "project_dim") if not isinstance(cfg[k], int) or cfg[k] < 1]
    if bad:
        raise ValueError(f"{cfg_path}: {', '.join(f'{k} = {cfg[k]!r}' for k in bad)}; expected positive integers")
    if cfg["c_dim"] != 10:
        raise ValueError(f"{cfg_path}: c_dim = {cfg['c_dim']}, expected 10 (a CIFAR-10 generator)")
    try:
        generator = Generator(ngf=cfg["ngf"], z_dim=cfg["z_dim"], c_dim=cfg["c_dim"], project_dim=cfg["project_dim"])
        state = torch.load(weights, map_location=map_location, weights_only=True)
        generator.load_state_dict(state, strict=True)
    except Exception as exc:
        raise ValueError(f"{weights} does not hold the generator {cfg_path} describes ({type(exc).__name__}: "
                         f"{exc}); expected the state_dict of a DiStyleGAN generator of that size") from exc
    nonfinite = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if nonfinite:
        raise ValueError(f"{weights} holds values that are not finite in {', '.join(nonfinite[:3])}"
                         f"{' ...' if len(nonfinite) > 3 else ''}: the generator is broken")
    return generator.eval()
