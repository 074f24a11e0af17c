"""Rule adapter: the IS/FID feature network -> OpenVINO IR, checked against PyTorch (synthcal.quality)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.machine import stamped
from synthcal.quality import choose_network, convert_network

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    network = choose_network(sm.input.get("inception"), sm.params.fid_extractor, sm.params.inception_checksum)
    log.info("converting %s to OpenVINO", network.name)
    report = convert_network(network, sm.output.xml, n_check=sm.params.n_check, threads=sm.threads)
    write_json(sm.output.report, stamped(report))
    log.info("IR vs PyTorch on %d images: pool features max |diff| %.3g%s", report["n_check"],
             report["max_abs_diff_pool"], (f", Inception Score {report['inception_score_openvino']:.4f} vs "
                                           f"{report['inception_score_pytorch']:.4f}") if network.has_logits else "")
