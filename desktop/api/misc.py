"""Health and version: the calls clients make before anything else."""

from desktop import LABEL_STUDIO_COMPAT, __version__


def version_info():
    short = ".".join(LABEL_STUDIO_COMPAT.split(".")[:2])
    build = {"message": f"LabelDesk {__version__}", "commit": "", "date": "", "branch": ""}
    return {
        "release": LABEL_STUDIO_COMPAT,
        "label-studio-os-package": {"version": LABEL_STUDIO_COMPAT, "short_version": short,
                                    "latest_version_from_pypi": None,
                                    "latest_version_upload_time": None,
                                    "current_version_is_outdated": False},
        "label-studio-os-backend": {**build, "version": LABEL_STUDIO_COMPAT},
        "label-studio-frontend": build, "dm2": build,
        "label-studio-converter": {"version": "2.1.2"},
        # label-studio-sdk branches on this: "Community" means direct, synchronous exports.
        "edition": "Community",
        "lsf": build, "backend": {"commit": ""},
        "labeldesk": {"version": __version__},
    }


def install(app, core):
    @app.get("/health", auth=False)
    @app.get("/api/health", auth=False)
    def health():
        return {"status": "UP"}

    @app.get("/api/version", auth=False)
    def version():
        return version_info()

    @app.get("/version", auth=False)
    def legacy_version():
        # 0.8/0.9 scripts read "label-studio-backend" here (docs/legacy-api.md)
        return {**version_info(), "label-studio-backend": LABEL_STUDIO_COMPAT}
