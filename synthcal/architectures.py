"""The built-in classifier architectures and model formats by name, without importing them.

Planning a run (Snakemake parsing the workflow, ``snakemake -n``) needs the names, not the networks, so this module
imports nothing heavy; :func:`synthcal.models.build` imports an architecture's module when it builds one. A job's
code identity includes an architecture's module only when the configuration makes that job build it
(:func:`architecture_files`, the planner's ``arch_code``), so that editing ``models/mobilenetv2.py`` reruns the jobs
of MobileNetV2 models and nothing else.
"""

from __future__ import annotations

from pathlib import Path

#: The modules of :func:`synthcal.models.build` are loaded by name (their jobs' fingerprints name them).
DYNAMIC_IMPORTS = "architecture modules: each job's arch_code parameter (synthcal.planning)"

#: Architecture name -> (module under synthcal.models, class, positional arguments before ``num_classes``). Names
#: without a prefix are the chenyaofo zoo's; ``akamaster_*`` are akamaster's CIFAR ResNets (option-A shortcuts).
ARCHITECTURES: dict[str, tuple[str, str, tuple]] = {
    **{f"resnet{d}": ("resnet", "CifarResNet", (d, "B")) for d in (20, 32, 44, 56)},
    **{name: ("vgg", "VGG", (name,)) for name in ("vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn")},
    **{f"mobilenetv2_{w}": ("mobilenetv2", "MobileNetV2", (mult,))
       for w, mult in (("x0_5", 0.5), ("x0_75", 0.75), ("x1_0", 1.0), ("x1_4", 1.4))},
    **{f"shufflenetv2_{w}": ("shufflenetv2", "ShuffleNetV2", (w,)) for w in ("x0_5", "x1_0", "x1_5", "x2_0")},
    **{f"repvgg_{v}": ("repvgg", "RepVGG", (v,)) for v in ("a0", "a1", "a2")},
    **{f"akamaster_resnet{d}": ("resnet", "CifarResNet", (d, "A")) for d in (20, 32, 44, 56, 110)},
}

#: The five architectures of the paper (Table 1).
PAPER_ARCHITECTURES = ("resnet20", "vgg16_bn", "mobilenetv2_x1_4", "shufflenetv2_x2_0", "repvgg_a2")

#: What a model entry can be (``models.<name>.format``), and the formats whose classifier is a PyTorch module (ONNX and
#: IR models are read by OpenVINO only).
FORMATS = ("builtin", "onnx", "openvino", "export", "python")
PYTORCH_FORMATS = ("builtin", "export", "python")


def architecture_module(arch: str) -> str:
    """The dotted module defining ``arch`` (KeyError for an unknown name)."""
    return f"synthcal.models.{ARCHITECTURES[arch][0]}"


def architecture_files(arch: str | None, fuse: bool = False) -> list[Path]:
    """The source files a job that builds ``arch`` runs beyond its static imports: the architecture's module (and
    RepVGG's, whose reparameterization a fused model runs)."""
    if not arch or arch not in ARCHITECTURES:
        return []
    package = Path(__file__).parent / "models"
    names = dict.fromkeys([ARCHITECTURES[arch][0]] + (["repvgg"] if fuse else []))
    return [package / f"{name}.py" for name in names]
