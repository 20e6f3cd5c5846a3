"""python3 -m eoproc.server --root DIR [options]: run the server (uvicorn)."""

import argparse
import logging
import os
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m eoproc.server",
                                 description="Tile and processing server embedding eoproc.")
    ap.add_argument("--root", action="append", required=True, metavar="DIR",
                    help="a folder whose rasters are served (repeatable)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    ap.add_argument("--port", type=int, default=8080, help="port (8080; 0 picks a free one)")
    ap.add_argument("--token-file", metavar="FILE",
                    help="file holding the bearer token (or set EOPROC_SERVER_TOKEN); "
                         "without one, no token is asked")
    ap.add_argument("--max-body", type=int, default=8 << 20, metavar="BYTES",
                    help="largest request body; larger gets 413 (8 MiB)")
    ap.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                    help="a host whose http(s) URLs may be read (repeatable; none by default)")
    ap.add_argument("--out-dir", metavar="DIR",
                    help="folder where POST /ops may write outputs (none: no writes)")
    ap.add_argument("--cache-files", type=int, default=64,
                    help="rasters kept open between requests (64)")
    ap.add_argument("--jobs", metavar="DIR",
                    help="folder of the processings (detect jobs); unfinished ones resume at "
                         "start (none: no /processings)")
    ap.add_argument("--job-workers", type=int, default=1,
                    help="processings run at once (1)")
    ap.add_argument("--job-threads", type=int, default=None,
                    help="threads of each processing (default: all CPUs)")
    ap.add_argument("--price-per-km2", type=float, default=1.0,
                    help="cost of a km2 in the estimate (1.0)")
    ap.add_argument("--threads", type=int, default=None,
                    help="requests worked on at once; the others queue (default: twice "
                         "the CPUs)")
    ap.add_argument("--gdal-cache-mb", type=int, default=128, metavar="MB",
                    help="GDAL's block cache, process-wide (128; 0 keeps GDAL's own "
                         "default, 5%% of RAM)")
    ap.add_argument("--log-level", default="warning")
    a = ap.parse_args(argv)

    token = os.environ.get("EOPROC_SERVER_TOKEN") or None
    if a.token_file:
        with open(a.token_file, encoding="utf-8") as f:
            token = f.read().strip() or None
    logging.basicConfig(level=a.log_level.upper())
    import uvicorn

    from . import Config, create_app

    try:
        app = create_app(Config(a.root, token=token, max_body=a.max_body,
                                allow_hosts=a.allow_host, out_dir=a.out_dir,
                                cache_files=a.cache_files, jobs_dir=a.jobs,
                                job_workers=a.job_workers, price_per_km2=a.price_per_km2,
                                job_threads=a.job_threads, threads=a.threads,
                                gdal_cache_mb=a.gdal_cache_mb or None))
    except ValueError as e:
        print("eoproc.server: error: %s" % e, file=sys.stderr)
        return 2
    config = uvicorn.Config(app, host=a.host, port=a.port, log_level=a.log_level,
                            access_log=False)
    server = uvicorn.Server(config)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
