# The configuration, validated once against synthcal/schemas/config.schema.yaml, the plan every rule asks
# (synthcal.plan: grid, paths, settings, resources) and the thin input functions the rules share.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from synthcal.codedeps import script_fingerprint
from synthcal.costs import estimate, format_estimate
from synthcal.config import (
    ConfigError,
    check_local_paths,
    resolve_fallbacks,
    teacher_dump_settings,
    validate_config,
)
from synthcal.plan import STYLEGAN2_CODE, TRAINING_RUNS, Plan, gpus
from synthcal.sources.filtered import FILTERS

try:
    validate_config(config)
    FALLBACKS = resolve_fallbacks(config)
    check_local_paths(config)
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None

PLAN = Plan(config)
ROOT = Path(workflow.basedir)

if config["cost"]["print"] and workflow.is_main_process:  # the cost before the run, also under --dry-run
    print(format_estimate(estimate(PLAN, workflow.cores or 1), workflow.cores or 1, config["cost"]["warn_hours"],
                          FALLBACKS + PLAN.notices()), file=sys.stderr)


wildcard_constraints:
    model="[A-Za-z0-9_]+",
    source="[A-Za-z0-9_]+",
    algorithm="default|accuracy_aware",
    variant="default|accuracy_aware|size/[0-9]+",
    rep=r"(|\.r[0-9]+)",


def script_code(script):
    """The `code` parameter of a job, from synthcal.codedeps. It holds one hash per file the script runs (the script
    and the library modules it imports at module level, transitively), each of the code without comments and
    docstrings, so that an edit of behaviour reruns the job and a comment does not (`python -m synthcal.codedeps`
    lists them)."""
    return script_fingerprint(ROOT / "workflow_scripts" / script, ROOT)


def mean_std(wildcards):
    return PLAN.mean_std(wildcards.model)


def model_files(wildcards):
    return PLAN.model_files(wildcards.model)


def classifier(wildcards):
    return PLAN.classifier(wildcards.model)


def factory_code(wildcards):
    return PLAN.factory_code(wildcards.model)


def rep_seed(wildcards):
    return PLAN.rep_seed(wildcards.rep)


def rep_index(wildcards):
    return PLAN.rep_index(wildcards.rep)


def calibration_input(wildcards):
    return PLAN.calibration_folder(wildcards.model, wildcards.source, wildcards.rep)
