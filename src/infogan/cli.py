"""``infogan`` command line: subcommands parse their flags and delegate to :mod:`infogan.api`."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NoReturn

from .config import PRESETS, Config, apply_overrides, parse_overrides, preset
from .data import DATASETS, dataset_name
from .errors import InfoganError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus a pointer to --help), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_KEY = "key:"  # the dest prefix of a flag that stands for a config key: its value is that key's override


def _key_flag(parser: argparse._ActionsContainer, *names: str, key: str, **kw: Any) -> None:
    """A flag that sets one config key, ``section.name``: the same as ``--set section.name=VALUE``."""
    if kw.get("action") == "store_true":
        kw.update(action="store_const", const=True)
    elif "metavar" not in kw and "choices" not in kw:
        kw["metavar"] = key.partition(".")[2].upper()
    kw["help"] = f"{kw['help']} ({key})" if kw.get("help") else key
    parser.add_argument(*names, dest=_KEY + key, **kw)


def _add_set(parser: argparse.ArgumentParser, what: str = "") -> None:
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help=f"set any config key{what}, e.g. loss.lambda_cont=0.5 or train.on_divergence=rollback "
                             "(repeatable; after the flags; the value reads as TOML)")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys the command line sets: the key flags given, then ``--set``."""
    flags = {dest[len(_KEY):]: value for dest, value in vars(args).items()
             if dest.startswith(_KEY) and value is not None}
    return flags | parse_overrides(args.set)


def _train(args: argparse.Namespace) -> int:
    from . import api

    overrides = _overrides(args)
    if args.resume:
        if args.out is None:
            raise InfoganError("--resume needs --out RUN_DIR naming the run to continue")
        if args.config or args.preset:
            raise InfoganError("--resume takes its config from RUN_DIR; drop --config/--preset")
        config = Config()  # replaced by the run's own config
    else:
        config = Config.load(args.config) if args.config else preset(args.preset or "mnist")
    out = args.out or f"runs/{args.preset or 'mnist'}-{time.strftime('%Y%m%d-%H%M%S')}"
    result = api.train(config, out, resume=args.resume, overrides=overrides, progress=not args.quiet)
    if not result.main:
        return 0  # under torchrun, rank 0 reports for all ranks
    how = "stopped by signal" if result.stopped_by_signal else "done"
    if result.rollbacks:
        how += f" after {result.rollbacks} rollback{'s' if result.rollbacks > 1 else ''}"
    print(f"{how} at step {result.step}; run directory: {result.run.path}")
    if result.stopped_by_signal:
        print(f"continue with: infogan train --resume --out {result.run.path}")
    return 0


def _traverse(args: argparse.Namespace) -> int:
    from . import api

    lo, hi = args.range
    path = api.traverse(args.run_dir, args.out, args.code, lo, hi, args.steps, args.rows, args.seed)
    print(path)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from . import api

    print(api.sample(args.run_dir, args.out, args.n, args.set, args.seed))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from . import api

    r = api.evaluate(args.run_dir, args.data, args.data_dir, args.split, args.code)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"step {r['step']}, data {r['data']} ({r['n_images']} images)")
    if "accuracy" in r:
        print(f"  {r['code']}: accuracy {r['accuracy'] * 100:.2f}%  NMI {r['nmi']:.3f}  (Hungarian-matched, no labels used in training)")
    for name, st in r.get("stability", {}).items():
        print(f"  {name}: stability {st['kept'] * 100:.1f}% of images keep their value under small moves, "
              f"H({name}|x) {st['entropy']:.3f} nats (label-free)")
    for name, mi in r["mi"].items():
        print(f"  L_I({name}) = {mi:.3f} nats   at most {r['l_i_ceiling'][name]:.3f}   "
              f"H({name}) = {r['entropy'][name]:.3f}")
    if "fd_digits" in r:
        print(f"  FD-digits {r['fd_digits']:.2f} (samples vs data, {r['fd_digits_n'][0]} each; lower is better; not FID)"
              f"  classifier score {r['classifier_score']:.2f} (real data {r['classifier_score_real']:.2f})")
    elif "fd_digits_note" in r:
        print(f"  {r['fd_digits_note']}")
    if "confusion" in r:
        print(f"  {r['code']} values (rows) against labels (columns):")
        conf = r["confusion"]
        width = max(len(str(v)) for row in conf for v in row) + 1
        print(" " * (len(r["code"]) + 6) + "".join(f"{lab:>{width}}" for lab in range(len(conf[0]))))
        for value, row in enumerate(conf):
            print(f"  {r['code']}={value:<3}" + "".join(f"{v:>{width}}" for v in row))
        print(f"  diagnosis: {r['diagnosis_line']}")
    if "morphometry" in r:
        _print_morphometry(r["morphometry"])
    if "morphometry_pairing" in r:
        p = r["morphometry_pairing"]
        print(f"  codes paired with measures: {', '.join(f'{c} {m}' for c, m in p['measures'].items())}; each moves "
              f"its own by |rho| >= {p['own']:.2f}, another code's by at most {p['cross']:.2f}")
    for pair, d in r.get("code_directions", {}).items():
        print(f"  {pair}: the two codes' image changes have cos^2 {d['cos2']:.3f} (0: orthogonal), sizes "
              f"{d['size_ratio']:.2f} : 1")
    if "disentanglement" in r:
        d = r["disentanglement"]
        print(f"  disentanglement of {', '.join(d['factors'])} in Q's {', '.join(d['dims'])} "
              f"({d['n_train']} + {d['n_test']} images):")
        print(f"    FactorVAE {d['factor_vae']:.3f} ({d['factor_vae_active_dims']} active dims)  MIG {d['mig']:.3f}  "
              f"SAP {d['sap']:.3f}  DCI disentanglement {d['dci_disentanglement']:.3f}, "
              f"completeness {d['dci_completeness']:.3f}, informativeness {d['dci_informativeness']:.3f}")
    return 0


def _print_morphometry(effects: dict[str, dict]) -> None:
    """Per continuous code: Spearman rho with each shape measure along traversals, and the digit kept."""
    first = next(iter(effects.values()))
    measures = list(first["rho"])
    print(f"  continuous codes from -1 to 1 along {first['rows']} rows (mean Spearman rho with each measure):")
    print("        " + "".join(f"{m:>10}" for m in measures) + "  digit kept  Q's value kept")
    for name, e in effects.items():
        kept = "" if e["identity_kept"] is None else f"{e['identity_kept'] * 100:.1f}%"
        print(f"    {name:<4}" + "".join(f"{e['rho'][m]:>+10.2f}" for m in measures)
              + f"{e['digit_kept'] * 100:>11.1f}%{kept:>15}")
    for name, e in effects.items():
        print(f"  {name}: mostly {e['dominant']} (rho {e['rho'][e['dominant']]:+.2f}; the next measure |rho| "
              f"{e['other']:.2f}), the digit kept in {e['digit_kept'] * 100:.1f}% of its images")
        if "beyond" in e:
            b = e["beyond"]
            print(f"    from -{b['span']:g} to {b['span']:g}: mostly {b['dominant']} (rho {b['rho'][b['dominant']]:+.2f}; "
                  f"next |rho| {b['other']:.2f}), digit kept {b['digit_kept'] * 100:.1f}%; the largest change of a rho "
                  f"or the digit kept from -1..1: {e['extrapolation_gap']:.2f}")


def _report(args: argparse.Namespace) -> int:
    from . import api

    print(api.report(args.run_dir, args.out))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .sweep import SWEEP_MD, run_sweep

    config = Config.load(args.config) if args.config else preset(args.preset or "mnist")
    overrides = _overrides(args)
    devices = args.devices or []
    if args.parallel > 1:  # that many at a time on the device the seeds would train on
        devices = [apply_overrides(config, overrides).train.device] * args.parallel
    result = run_sweep(config, args.seeds, args.out, overrides, devices=devices, progress=not args.quiet)
    print((args.out / SWEEP_MD).read_text(), end="")
    if result.stopped:
        print("stopped by signal; run the same command again to continue")
    failed = [r for r in result.results if r.error]
    if failed:
        first = failed[0]
        raise InfoganError(f"{len(failed)} of {len(args.seeds)} seeds failed (seed {first.seed}: {first.error}); "
                           "run the same command again to retry them")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import ExportOptions, export

    print(export(args.run_dir, args.format, args.out, ExportOptions(ort_web=args.ort_web)))
    return 0


def _encode(args: argparse.Namespace) -> int:
    from . import api
    from .encode import to_csv

    rows = api.encode(args.run_dir, args.images, args.invert)
    print(json.dumps(rows) if args.json else to_csv(rows), end="\n" if args.json else "")
    return 0


def _explore(args: argparse.Namespace) -> int:
    from . import api

    server = api.explore(args.run_dir, args.host, args.port, args.threads)
    try:
        print(f"explorer for {args.run_dir} at {server.url} (Ctrl-C stops it)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:  # the usual way to stop a server: not an error
        pass
    finally:
        server.server_close()
    return 0


def _datasets(args: argparse.Namespace) -> int:
    from .data import describe

    print(describe(args.data_dir))
    return 0


_DATA_DIR_HELP = ("folder with the dataset's files (mnist, fashion-mnist: the IDX .gz files; svhn: the .mat files; "
                  "celeba: img_align_celeba.zip; folder: the images); without it, downloads go to $INFOGAN_DATA "
                  "or ~/.cache/infogan (INFOGAN_OFFLINE=1: never download)")


def _dataset(text: str) -> str:
    try:
        dataset_name(text)
    except InfoganError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="infogan", description="InfoGAN (Chen et al., 2016): interpretable codes learned without labels.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"infogan {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a model (defaults: MNIST preset on the bundled digits, 1,500 steps)")
    t.add_argument("--preset", choices=sorted(PRESETS), help="paper preset (default mnist)")
    t.add_argument("--config", type=Path, help="TOML config file (e.g. a run's config.toml)")
    t.add_argument("--out", type=Path, help="run directory (default runs/PRESET-TIMESTAMP)")
    budget = t.add_mutually_exclusive_group()
    _key_flag(budget, "--steps", key="train.steps", type=_positive(int), help="train until this many steps in total")
    _key_flag(budget, "--epochs", key="train.epochs", type=_positive(float),
              help="train for this many passes over the data")
    _key_flag(budget, "--minutes", key="train.minutes", type=_positive(float),
              help="train for this much wall time (this call)")
    _key_flag(t, "--seed", key="train.seed", type=int)
    _key_flag(t, "--lambda-cat", key="loss.lambda_cat", type=_non_negative,
              help="MI weight of categorical codes (0: plain GAN)")
    _key_flag(t, "--lambda-cont", key="loss.lambda_cont", type=_non_negative, help="MI weight of continuous codes")
    _key_flag(t, "--consistency", key="loss.consistency", type=_non_negative,
              help="weight of Q's consistency on moved real images (categorical codes; 0: the paper's objective)")
    _key_flag(t, "--real-info", key="loss.real_info", type=_non_negative,
              help="weight of H(c) - H(c|x) of Q's categorical codes on the real batch (0: the paper's objective)")
    _key_flag(t, "--batch-size", key="optim.batch_size", type=_positive(int))
    _key_flag(t, "--lr-d", key="optim.lr_d", type=_positive(float), help="learning rate of D and Q")
    _key_flag(t, "--lr-g", key="optim.lr_g", type=_positive(float), help="learning rate of G")
    _key_flag(t, "--data", key="data.name", type=_dataset, metavar="NAME[:OPTIONS]",
              help=f"dataset, one of {', '.join(DATASETS)}, e.g. folder:size=64 (see infogan datasets; "
              "default: the preset's, bundled digits)")
    _key_flag(t, "--data-dir", key="data.data_dir", metavar="DATA_DIR", help=_DATA_DIR_HELP)
    _key_flag(t, "--device", key="train.device", help="auto, cpu, cuda or cuda:N (under torchrun auto and cuda give "
              "each rank cuda:LOCAL_RANK)")
    _key_flag(t, "--threads", key="train.threads", type=_positive(int), help="CPU threads for torch")
    _key_flag(t, "--deterministic", key="train.deterministic", action="store_true",
              help="deterministic kernels only: bit-exact reruns")
    _key_flag(t, "--precision", key="train.precision", choices=("auto", "fp32", "bf16"),
              help="bf16: forward passes under bfloat16 autocast (fp32 weights and losses); auto (default): "
                   "bf16 where the hardware has it (CUDA, or a CPU with AVX512_BF16 or AMX), else fp32")
    _key_flag(t, "--starts", key="train.starts", type=_positive(int),
              help="train N short starts (train.start_steps steps each) and keep the one whose categorical code "
                   "is most stable on real images, or that train.start_score prefers (agreement, centrality); "
                   "label-free; 1: no selection")
    _key_flag(t, "--compile", key="train.compile", action="store_true",
              help="torch.compile the networks (pays on GPUs; slower than eager on small CPUs)")
    _key_flag(t, "--tensorboard", key="train.tensorboard", action="store_true",
              help="also log the metrics and sample grids as TensorBoard events in RUN_DIR/tensorboard "
                   "(pip install 'infogan[tensorboard]')")
    _add_set(t, " (the flags above are shorthands for the common ones)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=_train)

    v = sub.add_parser("traverse", help="grid: rows fix the noise, columns vary one code (paper Figure 2)")
    v.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    v.add_argument("--code", help="code to vary (default: the first)")
    v.add_argument("--range", type=float, nargs=2, default=(-2.0, 2.0), metavar=("LO", "HI"),
                   help="range of a continuous code (default -2 2)")
    v.add_argument("--steps", type=_positive(int), default=10, help="columns for a continuous code")
    v.add_argument("--rows", type=_positive(int), default=10)
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--out", type=Path, required=True, help="PNG file to write")
    v.set_defaults(func=_traverse)

    s = sub.add_parser("sample", help="a grid of samples, optionally with codes pinned")
    s.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    s.add_argument("--n", type=_positive(int), default=64)
    s.add_argument("--set", action="append", default=[], metavar="CODE=VALUE", help="pin a code, e.g. cat0=3 or c1=0.5")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", type=Path, required=True, help="PNG file to write")
    s.set_defaults(func=_sample)

    e = sub.add_parser("evaluate", help="categorical code as a label-free classifier; L_I vs H(c)")
    e.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    e.add_argument("--data", type=_dataset, metavar="NAME[:OPTIONS]", help="dataset (default: the run's)")
    e.add_argument("--data-dir", help=_DATA_DIR_HELP)
    e.add_argument("--split", choices=("train", "test"), help="default: the run's")
    e.add_argument("--code", help="categorical code to score (default: the first)")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=_evaluate)

    from .export import FORMATS

    x = sub.add_parser("export", help="the trained model as a file to share (safetensors: weights + config, no training state)")
    x.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run directory, checkpoint or model file")
    x.add_argument("--format", choices=FORMATS, required=True)
    x.add_argument("--out", type=Path, required=True,
                   help="file to write (onnx: OUT.onnx is the generator, OUT.encoder.onnx Q); for web a folder")
    x.add_argument("--ort-web", type=Path, metavar="PATH",
                   help="web: onnxruntime-web's npm tarball or package folder (default: $INFOGAN_ORT_WEB, "
                        "./node_modules/onnxruntime-web, ./onnxruntime-web-VERSION.tgz)")
    x.set_defaults(func=_export)

    n = sub.add_parser("encode", help="Q's estimates of the codes for image files (a label-free classifier), as CSV")
    n.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run directory, checkpoint or model file")
    n.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="PNG or JPEG files (resized to the model's)")
    n.add_argument("--invert", action="store_true", help="invert the images first (dark strokes on light paper)")
    n.add_argument("--json", action="store_true", help="print a JSON list, with every class probability")
    n.set_defaults(func=_encode)

    o = sub.add_parser("explore", help="a local web page: sliders per code, live grid and traversal, encode an image")
    o.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run directory, checkpoint or model file")
    o.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    o.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    o.add_argument("--threads", type=_positive(int), default=1,
                   help="torch threads per request (default 1: parallel requests run on parallel cores)")
    o.set_defaults(func=_explore)

    r = sub.add_parser("report", help="a self-contained report.html: curves, samples, traversals, animations, evaluation")
    r.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    r.add_argument("--out", type=Path, help="HTML file to write (default RUN_DIR/report.html)")
    r.set_defaults(func=_report)

    w = sub.add_parser("sweep", help="train and evaluate several seeds, in turn or side by side; median and worst")
    w.add_argument("--seeds", type=int, nargs="+", required=True, metavar="S")
    source = w.add_mutually_exclusive_group()
    source.add_argument("--preset", choices=sorted(PRESETS), help="paper preset (default mnist)")
    source.add_argument("--config", type=Path, help="TOML config file")
    budget = w.add_mutually_exclusive_group()
    _key_flag(budget, "--steps", key="train.steps", type=_positive(int), help="train each seed until this many steps")
    _key_flag(budget, "--minutes", key="train.minutes", type=_positive(float),
              help="train each seed for this much wall time")
    w.add_argument("--out", type=Path, required=True, help="folder: OUT/seed-S per seed, OUT/sweep.md and sweep.json")
    _add_set(w, " for every seed")
    fan_out = w.add_mutually_exclusive_group()
    fan_out.add_argument("--devices", nargs="+", metavar="D",
                         help="train seeds at the same time, each in an 'infogan train' process, one per device at a "
                              "time, e.g. --devices cuda:0 cuda:1 (a device may repeat: cpu cpu)")
    fan_out.add_argument("--parallel", type=_positive(int), default=1, metavar="N",
                         help="train N seeds at a time on the config's device (default 1: one after another, in this "
                              "process); on a CPU they share its cores, so this rarely finishes sooner")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.set_defaults(func=_sweep)

    d = sub.add_parser("datasets", help="the datasets --data takes: shape, source, licence, whether they are here")
    d.add_argument("--data-dir", help="also say whether this folder holds each dataset's files")
    d.set_defaults(func=_datasets)
    return p


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Library warnings (e.g. a corrupt checkpoint skipped) as one line each, like errors.
    warnings.showwarning = lambda message, *_: print(f"infogan {args.command}: warning: {message}", file=sys.stderr)
    try:
        return args.func(args)
    except InfoganError as e:
        print(f"infogan {args.command}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # disk full, permissions, a path that is a folder...
        where = f" {e.filename}:" if e.filename else ""
        print(f"infogan {args.command}: error:{where} {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"infogan {args.command}: interrupted", file=sys.stderr)
        return 130


def entry() -> Any:
    sys.exit(main())
