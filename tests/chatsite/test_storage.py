import re
import subprocess
import sys

from tests.servers import ROOT


def test_collected_modules_import_each_other_by_hashed_names(tmp_path):
    """After a deploy, a cached old module can never meet a new app.js."""
    env = {"DJANGO_DEBUG": "0", "STATIC_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    [app] = [p for p in (tmp_path / "rooms").glob("app.*.js") if p.suffix == ".js"]
    imports = re.findall(r'from "(\./[^"]+)"', app.read_text())
    assert imports
    for name in imports:
        assert re.fullmatch(r"\./\w+\.[0-9a-f]{12}\.js", name), name
        assert (tmp_path / "rooms" / name[2:]).exists()
