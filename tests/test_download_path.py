"""The main command's own path: the default config.yaml downloads CIFAR-10, the zoo checkpoints, NVIDIA's pickle
and the Inception weights, then runs the paper's protocol. Stand-ins are served from 127.0.0.1; only URLs,
checksums and scale are overridden. Then the failures: HTTP 404, a connection dropped mid-file, a checksum
mismatch."""

from __future__ import annotations

import hashlib
import pickle
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from stand_in_server import StandInServer

from synthcal.models import stand_in_checkpoint

from helpers import REPO, hand_inception_score, write_canonical_archive, write_random_torch_fidelity_weights
from workflow_helpers import out, snakemake

pytestmark = pytest.mark.slow

#: A class-conditional generator with StyleGAN2-ADA's call contract and attributes, in the package layout of
#: NVlabs/stylegan2-ada-pytorch (whose code cannot be bundled), so that NVIDIA-style pickles of it unpickle.
GENERATOR = textwrap.dedent('''
    import torch


    class StandInGenerator(torch.nn.Module):
        z_dim, c_dim, w_dim, img_resolution, img_channels = 512, 10, 512, 32, 3

        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.fc = torch.nn.Linear(self.z_dim + self.c_dim, 3 * 32 * 32)

        def forward(self, z, c, truncation_psi=1, truncation_cutoff=None, noise_mode="random", force_fp32=False):
            return torch.tanh(self.fc(torch.cat([z, 4 * c], dim=1))).view(-1, 3, 32, 32)
''')

MODELS = {"resnet20": "resnet", "shufflenetv2_x2_0": "shufflenetv2"}  # zoo name -> release tag
SOURCES = ["cifar10", "stylegan2_ada", "distylegan", "noise"]


def _checkout(root: Path) -> Path:
    """A stand-in checkout of NVlabs/stylegan2-ada-pytorch: dnnlib/ and torch_utils/ holding the generator."""
    for package in ("dnnlib", "torch_utils"):
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    (root / "torch_utils" / "stand_in_generator.py").write_text(GENERATOR)
    return root


def _pickle(checkout: Path) -> bytes:
    sys.path.insert(0, str(checkout))
    try:
        from torch_utils.stand_in_generator import StandInGenerator

        generator = StandInGenerator().eval()
        return pickle.dumps({"G": generator, "D": None, "G_ema": generator})
    finally:
        sys.path.remove(str(checkout))
        for name in [m for m in sys.modules if m == "torch_utils" or m.startswith("torch_utils.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    """The served files and the config overrides that point the default config.yaml at them."""
    root = tmp_path_factory.mktemp("stand_ins")
    files, digests = {}, {}
    archive, _ = write_canonical_archive(root / "cifar-10-python.tar.gz", n_per_batch=20, seed=1)
    files["/cifar-10-python.tar.gz"] = archive.read_bytes()
    for k, (model, tag) in enumerate(MODELS.items()):
        data = stand_in_checkpoint(model, root / f"{model}.pt", seed=k).read_bytes()
        digests[model] = hashlib.sha256(data).hexdigest()
        files[f"/{tag}/cifar10_{model}-{digests[model][:8]}.pt"] = data
    files["/cifar10.pkl"] = _pickle(_checkout(root / "checkout"))
    files["/weights-inception-2015-12-05-6726825d.pth"] = write_random_torch_fidelity_weights(
        root / "inception.pth").read_bytes()
    with StandInServer(files) as server:
        url = server.url
        overrides = {
            # URLs and checksums
            "data": {"cifar10": {"url": f"{url}/cifar-10-python.tar.gz",
                                 "md5": hashlib.md5(files["/cifar-10-python.tar.gz"]).hexdigest()}},
            "models": {m: {"weights": {"url": f"{url}/{tag}/cifar10_{m}-{digests[m][:8]}.pt",
                                       "sha256": digests[m]}} for m, tag in MODELS.items()},
            "teacher": {"stylegan2_ada": {"pickle": {"url": f"{url}/cifar10.pkl",
                                                     "sha256": hashlib.sha256(files["/cifar10.pkl"]).hexdigest()}}},
            "quality": {"inception": {
                "url": f"{url}/weights-inception-2015-12-05-6726825d.pth",
                "sha256": hashlib.sha256(files["/weights-inception-2015-12-05-6726825d.pth"]).hexdigest()}},
        }
        scale = {
            # the downloaded inputs feed these sources; fractals and BN inversion read none (tested elsewhere)
            "experiment": {"models": list(MODELS), "sources": SOURCES},
            "teacher": {"n_per_class": 10, "batch_size": 50, "device": "cpu", "threads": 2},
            "distylegan": {"ngf": 16, "ndf": 8, "project_dim": 8, "epochs": 1, "batch_size": 20, "device": "cpu",
                           "threads": 2, "sample_batch_size": 50},
            "calibration": {"n_per_class": 4},
            "fractal": {"points": 2000, "chains": 200},
            "bn_inversion": {"n_per_class": 1, "iterations": 2, "batch_size": 10},
            "conversion": {"check_batch": 4},
            "quantization": {"threads": 2, "batch_size": 8, "accuracy_aware": {"max_num_iterations": 2}},
            "quality": {"n_images": 12, "n_reference": 12, "is_splits": 2, "threads": 2, "batch_size": 12},
            "throughput": {"threads": 2, "seconds": 0.05, "repeats": 1},
            "evaluation": {"threads": 2, "batch_size": 50},
        }
        yield server, _merge(overrides, scale), root / "checkout"


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _workdir(tmp_path: Path, checkout: Path, config: dict) -> Path:
    """A run folder with the stand-in checkout where config.yaml expects NVlabs' (teacher.stylegan2_ada.repo)."""
    import shutil

    shutil.copytree(checkout, tmp_path / "resources" / "stylegan2-ada-pytorch")
    (tmp_path / "overrides.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def test_the_default_config_downloads_everything_and_runs_the_papers_protocol(stand_ins, tmp_path):
    server, config, checkout = stand_ins
    work = _workdir(tmp_path, checkout, config)
    snakemake(work, "--cores", "2", "--configfile", str(work / "overrides.yaml"), timeout=1800)
    res = work / "results"
    # every input was downloaded once, from the configured URLs, and verified
    assert sorted(server.requests) == sorted(server.files)
    assert (work / "resources/downloads/cifar-10-python.tar.gz").read_bytes() == server.files["/cifar-10-python.tar.gz"]
    # the paper's protocol on both models and every source: Table 1a, Table 1b (ShuffleNetV2), Table 2 with IS
    default = pd.read_csv(res / "tables/default_quantization.csv")
    assert sorted(zip(default.model, default.source)) == sorted((m, s) for m in MODELS for s in SOURCES)
    assert default.int8_accuracy.notna().all() and (default.n_calibration[default.source == "cifar10"] == 40).all()
    table1a = pd.read_csv(res / "tables/table1a.csv", index_col="source")
    assert list(table1a.index) == SOURCES and list(table1a.columns) == [*MODELS, "calibration_data"]
    aa = pd.read_csv(res / "tables/accuracy_aware_quantization.csv")
    assert set(aa.model) == {"shufflenetv2_x2_0"} and len(aa) == len(SOURCES) and (aa.max_drop == 0.02).all()
    table2 = pd.read_csv(res / "tables/table2.csv")
    assert list(table2.columns) == ["source", "is_mean", "is_std", "n_images", "is_splits", "fid", "n_reference",
                                    "extractor", "description", "fid_reference", "comparable"]
    generated = table2[table2.source.isin(SOURCES)]
    assert len(generated) == len(SOURCES) and (generated.n_images == 12).all() and generated.comparable.all()
    # the noise row's IS, recomputed here: the same 12 images drawn again from the source's settings, through the
    # downloaded Inception run directly in PyTorch, scored by the textbook formula
    from synthcal.config import load_config
    from synthcal.planning import Plan
    from synthcal.quality import torch_fidelity_network
    from synthcal.quality_sets import image_set

    plan = Plan(load_config(REPO / "config.yaml", work / "overrides.yaml"))
    noise = plan.reports.quality_set("noise")
    images = image_set(noise.kind, 12, plan.config["seed"], settings=noise.settings)
    network = torch_fidelity_network(next((work / "resources/inception").iterdir())).module
    with torch.no_grad():
        logits = network(torch.from_numpy(images.transpose(0, 3, 1, 2).copy()))[1].double().numpy()
    row = table2.set_index("source").loc["noise"]
    assert (row.is_mean, row.is_std) == pytest.approx(hand_inception_score(logits, 2), abs=1e-4)
    dump = yaml.safe_load((res / "teacher/dump/manifest.json").read_text())
    assert dump["teacher"]["provider"] == "stylegan2_ada" and dump["count"] == 100
    assert dump["teacher"]["sha256"] == config["teacher"]["stylegan2_ada"]["pickle"]["sha256"]
    extractor = yaml.safe_load((res / "models/inception/conversion.json").read_text())
    assert extractor["has_logits"] and extractor["max_abs_diff_pool"] < 1e-3


@pytest.mark.parametrize("path, failure, key, message", [
    ("/cifar-10-python.tar.gz", "404", "data.cifar10.url", "the server answered 404"),
    ("/resnet/", "drop", "models.resnet20.weights.url", "connection dropped"),
    ("/cifar10.pkl", "corrupt", "teacher.stylegan2_ada.pickle.sha256", "checksum mismatch"),
])
def test_a_failed_download_names_the_key_leaves_nothing_and_a_rerun_succeeds(stand_ins, tmp_path, path, failure,
                                                                              key, message):
    server, config, checkout = stand_ins
    work = _workdir(tmp_path, checkout, config)
    served = next(p for p in server.files if p.startswith(path))
    target = {"/cifar-10-python.tar.gz": "resources/downloads/cifar-10-python.tar.gz",
              "/cifar10.pkl": "resources/teacher/cifar10.pkl"}.get(served, f"resources/weights/{Path(served).name}")
    args = ("--cores", "1", "--configfile", str(work / "overrides.yaml"))
    server.failures[served] = failure
    try:
        proc = snakemake(work, *args, target=target, check=False, timeout=300)
    finally:
        del server.failures[served]
    assert proc.returncode != 0
    logs = "".join(p.read_text() for p in (work / "results/logs").rglob("*.log"))
    assert message in logs and f"'{key}'" in logs, logs[-2000:]
    folder = (work / target).parent
    assert not (work / target).exists() and not (folder.exists() and list(folder.iterdir()))  # nothing partial
    assert "Error" in out(proc)
    snakemake(work, *args, target=target, timeout=300)  # the server is fixed: the same command now succeeds
    assert (work / target).read_bytes() == server.files[served]
