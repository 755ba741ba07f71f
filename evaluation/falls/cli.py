"""``eldercare train falls`` and ``eldercare eval falls``: SisFall-format folders in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from detector.falls.scoring import FallModel, Scorer, ThresholdRule, bundled_model
from detector.falls.stream import FallConfig
from eldercare.logs import configure_logging
from evaluation.falls.sisfall import SISFALL_RATE_HZ, find_trials

# Training and evaluation need scikit-learn; they are imported inside the commands so that
# every other ``eldercare`` command (and the detector service) starts without it.

DataDir = Annotated[
    Path, typer.Argument(exists=True, file_okay=False, help="SisFall-format folder")
]
DataPath = Annotated[
    Path,
    typer.Argument(
        exists=True,
        help="SisFall-format folder; with --stream a t,x,y,z CSV file or a folder of them",
    ),
]


def train_command(
    data_dir: DataDir,
    out: Annotated[Path, typer.Option("--out", help="where to write the model (.npz)")],
    augment: Annotated[
        list[float] | None,
        typer.Option(
            "--augment",
            min=1.0,
            help="also train on every recording played k times slower and softer (repeatable)",
        ),
    ] = None,
    threshold_from_folds: Annotated[
        int | None,
        typer.Option(
            "--threshold-from-folds",
            min=2,
            help="choose the decision threshold in K leave-subjects-out folds of DATA_DIR: the "
            "lowest at which the model raises no more suspicions than one without --augment "
            "at 0.5",
        ),
    ] = None,
) -> None:
    """Train the fall classifier on every subject of DATA_DIR, at 200, 50 and 20 Hz."""
    from evaluation.falls.augment import with_softened
    from evaluation.falls.replay import replay
    from evaluation.falls.threshold import threshold_from_folds as choose
    from evaluation.falls.training import TRAINING_RATES_HZ, train

    trials = find_trials(data_dir)
    if not trials:
        raise typer.BadParameter(f"no SisFall trials below {data_dir}")
    augment = augment or []
    # activity streams only where the threshold is chosen on them
    plain = replay(trials, TRAINING_RATES_HZ, continuous=threshold_from_folds is not None)
    training = with_softened(trials, plain, augment) if augment else plain
    model = train(training)
    model.trained_on["data"] = data_dir.name
    if augment:
        model.trained_on["augment"] = augment
    if threshold_from_folds:
        subjects = sorted({t.subject for t in trials})
        choice = choose(plain, training, subjects, threshold_from_folds, FallConfig().refractory_s)
        model.threshold = choice.threshold
        model.trained_on["threshold_from_folds"] = {
            "folds": threshold_from_folds,
            "rule": "lowest threshold of the grid whose inner-fold suspicions do not exceed "
            "the plain (not augmented) inner models' at 0.5",
            "stream_hours": choice.stream_hours,
            "reference_suspicions": choice.reference_suspicions,
            "suspicions": {f"{t:g}": n for t, n in choice.suspicions.items()},
        }
    model.save(out)
    typer.echo(
        f"trained on {len(model.trained_on['subjects'])} subjects, "
        f"{model.trained_on['windows']} windows ({model.trained_on['fall_windows']} falls), "
        f"threshold {model.threshold:g}: {out} ({out.stat().st_size} bytes)"
    )


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _print_report(report: dict[str, Any]) -> None:
    keys = ("sensitivity", "specificity", "precision", "f1", "accuracy", "false_alarms_per_hour")
    typer.echo(f"scorer: {report['scorer']}   rate: {report['rate_hz']:g} Hz")
    typer.echo(
        f"trials {report['trials']}  tp {report['tp']}  fn {report['fn']}  "
        f"fp {report['fp']}  tn {report['tn']}"
    )
    typer.echo("  ".join(f"{key} {_fmt(report[key])}" for key in keys))
    typer.echo(
        f"delay after impact: mean {_fmt(report['delay_mean_s'])} s, "
        f"p90 {_fmt(report['delay_p90_s'])} s; continuous ADL streams "
        f"{report['stream_hours']:.2f} h, {report['stream_false_alarms']} false alarms"
    )
    for title, table in (("group", report["by_group"]), ("subject", report["by_subject"])):
        typer.echo(f"{title:7}  falls  adl  sensitivity  specificity  false_alarms_per_hour")
        for key, row in table.items():
            typer.echo(
                f"{key:7}  {row['tp'] + row['fn']:5}  {row['fp'] + row['tn']:4}  "
                f"{_fmt(row['sensitivity']):>11}  {_fmt(row['specificity']):>11}  "
                f"{_fmt(row['false_alarms_per_hour']):>21}"
            )
    typer.echo("code  trials  alarmed  alarm_rate")
    for code, row in report["by_code"].items():
        typer.echo(f"{code}  {row['trials']:6}  {row['alarmed']:7}  {row['alarm_rate']:.4f}")


def eval_command(
    data_dir: DataPath,
    model: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="model file (.npz)")
    ] = None,
    rate: Annotated[float, typer.Option(min=5, max=2000, help="replay at this rate (Hz)")] = 200.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    cv: Annotated[
        int | None, typer.Option(min=2, help="leave-subjects-out CV with K folds on DATA_DIR")
    ] = None,
    rule: Annotated[bool, typer.Option(help="use the threshold rule, not a model")] = False,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="DATA_DIR is daily life: one long t,x,y,z CSV (s, g; any rate) per file; "
            "report suspicions and alerts per hour of wear",
        ),
    ] = False,
) -> None:
    """Run the streaming detector over every recording of DATA_DIR and report the figures."""
    if stream:
        if cv:
            raise typer.BadParameter("--stream has no subjects to cross-validate: use --model")
        scorer, name, config = _scorer(model, rule)
        _eval_streams(data_dir, scorer, name, config, as_json)
        return
    if not data_dir.is_dir():
        raise typer.BadParameter(f"{data_dir} is a file: a SisFall folder, or use --stream")
    from evaluation.falls.cross_validation import cross_validated_scorers, evaluate
    from evaluation.falls.replay import replay
    from evaluation.falls.training import TRAINING_RATES_HZ

    trials = find_trials(data_dir)
    if not trials:
        raise typer.BadParameter(f"no SisFall trials below {data_dir}")
    if (SISFALL_RATE_HZ / rate) % 1:
        raise typer.BadParameter(f"--rate must divide {SISFALL_RATE_HZ:g} Hz (200, 100, 50, 20…)")
    extra: dict[str, Any] = {}
    if cv:
        subjects = sorted({t.subject for t in trials})
        if len(subjects) < cv:
            raise typer.BadParameter(f"{len(subjects)} subjects cannot make {cv} folds")
        rates = [rate, *(r for r in TRAINING_RATES_HZ if r != rate)]
        replays = replay(trials, rates)
        evaluated = replays[0]
        training = [r for r in replays if r.rate_hz in TRAINING_RATES_HZ]
        scorer_for, folds = cross_validated_scorers(training, subjects, cv)
        config = FallConfig()
        extra = {"scorer": f"{cv}-fold leave-subjects-out CV", "folds": folds}
    else:
        scorer, name, config = _scorer(model, rule)
        [evaluated] = replay(trials, [rate], scorer, config)

        def scorer_for(_: str) -> Scorer:
            return scorer

        extra = {"scorer": name}
    report = {**extra, **evaluate(evaluated, scorer_for, config.refractory_s)}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_report(report)


def _scorer(model: Path | None, rule: bool) -> tuple[Scorer, str, FallConfig]:
    """The scorer asked for: the threshold rule, a model file, or the bundled model."""
    if rule:
        return ThresholdRule(), "threshold rule", FallConfig()
    loaded = FallModel.load(model) if model else bundled_model()
    if loaded is None:
        return ThresholdRule(), "threshold rule (no model)", FallConfig()
    return loaded, f"model {model or 'bundled'}", FallConfig(**loaded.config)


def _eval_streams(path: Path, scorer: Scorer, name: str, config: FallConfig, as_json: bool) -> None:
    """Suspicions and confirmed alerts per hour of wear, per file and over all files."""
    from evaluation.falls.daily_stream import StreamFileError, read_stream_csv, run_stream

    configure_logging("WARNING", True)  # a suspicion an hour is the figure, not a log line
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files:
        raise typer.BadParameter(f"no .csv streams in {path}")
    reports = []
    for file in files:
        try:
            times, samples = read_stream_csv(file)
        except StreamFileError as error:
            raise typer.BadParameter(str(error)) from None
        reports.append(run_stream(file.stem, times, samples, scorer, config).as_dict())
    hours = sum(r["hours"] for r in reports)
    totals = {
        "scorer": name,
        "streams": len(reports),
        "hours": round(hours, 6),
        "suspicions": sum(r["suspicions"] for r in reports),
        "alerts": {
            severity: sum(r["alerts"][severity] for r in reports)
            for severity in reports[0]["alerts"]
        },
    }
    totals["suspicions_per_hour"] = totals["suspicions"] / hours if hours else None
    totals["alerts_per_hour"] = {
        severity: count / hours if hours else None for severity, count in totals["alerts"].items()
    }
    if as_json:
        typer.echo(json.dumps({**totals, "by_stream": reports}, indent=2))
        return
    typer.echo(f"scorer: {name}   streams: {len(reports)}   hours of wear: {hours:.2f}")
    typer.echo("stream        hours    rate  suspicions/h  critical/h  medium/h  (counts)")
    for row in [*reports, {**totals, "name": "all", "rate_hz": None}]:
        per_hour = row["alerts_per_hour"]
        typer.echo(
            f"{row['name']:12} {row['hours']:6.2f} {_rate(row['rate_hz']):>7} "
            f"{_fmt(row['suspicions_per_hour']):>13} {_fmt(per_hour['critical']):>11} "
            f"{_fmt(per_hour['medium']):>9}  ({row['suspicions']} suspicions, "
            f"{row['alerts']['critical']} critical, {row['alerts']['medium']} medium)"
        )
