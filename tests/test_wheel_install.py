"""The wheel runs on its own: built from this checkout, installed in a fresh virtualenv
outside it, and used the way a building uses it (docs/INSTALL.md).

The new virtualenv gets only the wheel (`--no-deps --no-index`: no network); the
dependencies come from the test's own virtualenv through a `.pth` line naming its
site-packages as a plain path. Such a path is not a site directory, so the `.pth`
files in it (an editable install of a checkout among them) are not run: whatever
`shared`, `console` or `kiosk` the new virtualenv imports is the installed wheel's.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import venv
import zipfile
from pathlib import Path

import pytest
import requests

from kiosk import surnames
from shared import terms
from shared.version import __version__

ROOT = Path(__file__).resolve().parent.parent
CODE = ("shared", "kiosk", "console", "lobbydesk")
SOURCES = ("pyproject.toml", "README.md", "assets", "deploy", *CODE)
ASSETS_PACKAGE = "lobbydesk_assets"
# Top-level data folders and the package names they ship under (pyproject.toml).
DATA_PACKAGES = {"assets": ASSETS_PACKAGE, "deploy": "lobbydesk_deploy"}
PASSWORD = "a long pass phrase"
KIOSK_NAME = "大堂 A"


def _run(command, *, timeout=120, check=True, **kwargs):
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
    if check:
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the checkout, so the build leaves nothing in it and no stale
    build/ folder of an earlier build can slip into the wheel."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = _run([*build, "--no-index", "-q", "-w", dist, "."], cwd=source, timeout=300, check=False)
    assert done.returncode == 0, (
        f"{done.stdout}\n{done.stderr}\nThe build needs setuptools>=70.1 in this virtualenv "
        "(the test extra: scripts/bootstrap test)."
    )
    [built] = dist.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh virtualenv outside the checkout with the wheel installed, and the
    environment to run it in (no PYTHONPATH, no display, nothing of the test's)."""
    home = tmp_path_factory.mktemp("installed")
    target = home / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    ask = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site_packages = Path(_run([python, "-c", ask]).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_path(kind) for kind in ("purelib", "platlib"))
    (site_packages / "lobbydesk-test-dependencies.pth").write_text("\n".join(ours) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
    _run([*pip, "--no-deps", "--no-index", wheel], timeout=300)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LOBBYDESK_", "PYTHON", "KIVY_", "SDL_"))
        and key not in ("DISPLAY", "WAYLAND_DISPLAY", "VIRTUAL_ENV")
    }
    env.update(
        PATH=f"{target / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        PYTHONNOUSERSITE="1",
        KIVY_HOME=str(home / "kivy"),
        KIVY_NO_ARGS="1",
        KIVY_NO_CONSOLELOG="1",
    )
    workdir = home / "cwd"
    workdir.mkdir()
    return {
        "python": python,
        "lobbydesk": target / "bin" / "lobbydesk",
        "site_packages": site_packages,
        "env": env,
        "cwd": workdir,
    }


def _in_venv(installed, command, **kwargs):
    return _run(command, env=installed["env"], cwd=installed["cwd"], **kwargs)


def test_the_wheel_holds_every_module_and_data_file(wheel):
    assert wheel.name == f"lobbydesk-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    expected = {
        path.relative_to(ROOT).as_posix()
        for folder in CODE
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    expected |= {
        f"{package}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, package in DATA_PACKAGES.items()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert sorted(expected - shipped) == []  # add a new package to pyproject.toml's list


def test_staff_pages_show_the_console_version_and_the_sign_in_page_does_not(client, reception):
    footer = f"大堂服务台 · Lobby Desk {__version__}"
    for page in ("/", "/visitors/", "/tickets/"):
        assert footer in client.get(page).get_data(as_text=True), page
    assert reception.post("/logout").status_code == 302
    sign_in = client.get("/login")
    assert sign_in.status_code == 200 and 'name="password"' in sign_in.get_data(as_text=True)
    assert __version__ not in sign_in.get_data(as_text=True)  # nothing for a stranger to read


# Runs inside the new virtualenv: where the code comes from, and its data files.
PROBE = """
import json, console, kiosk, lobbydesk, shared
from kiosk import surnames
from shared import i18n, resources, terms
print(json.dumps({
    "modules": [m.__file__ for m in (console, kiosk, lobbydesk, shared)],
    "assets": str(resources.asset("translations", "kiosk.json")),
    "catalogue": i18n.catalogue("kiosk"),
    "terms_file": str(terms.CATALOGUE),
    "terms": terms.TERMS,
    "surnames": [s.text for s in surnames.search("zh")],
}, ensure_ascii=False))
"""


def test_the_installed_code_and_its_data_come_from_the_wheel(installed):
    found = json.loads(_in_venv(installed, [installed["python"], "-c", PROBE]).stdout)
    for place in [*found["modules"], found["assets"], found["terms_file"]]:
        assert Path(place).is_relative_to(installed["site_packages"]), place
        assert not Path(place).is_relative_to(ROOT), place
    checkout = {}
    for path in sorted((ROOT / "assets" / "translations").glob("kiosk*.json")):
        checkout.update(json.loads(path.read_text(encoding="utf-8")))
    assert found["catalogue"] == checkout  # every feature's file, not only kiosk.json
    words = {
        group: {v: list(pair) for v, pair in values.items()}
        for group, values in terms.TERMS.items()
    }
    assert found["terms"] == words  # the one catalogue of domain words ships too
    assert found["surnames"] == [s.text for s in surnames.search("zh")]
    assert "张" in found["surnames"]
    version = _in_venv(installed, [installed["lobbydesk"], "--version"]).stdout
    assert version.strip() == f"lobbydesk {__version__}"


# Runs inside the new virtualenv: the installed kiosk code queues a "call reception" in
# its outbox, as the kiosk screen does, and sends it with the token pairing stored.
CALL_RECEPTION = """
import sys
from kiosk.client import ConsoleClient
from kiosk.outbox import Outbox
from kiosk.store import KioskStore
from kiosk.viewmodels.help_call import HelpCallViewModel

store = KioskStore.open(sys.argv[2])
outbox = Outbox(store)
call = HelpCallViewModel().start("zh_CN", "home")
outbox.enqueue(call["kind"], call["path"], call["body"], call["method"])
client = ConsoleClient(sys.argv[1], token=store.token)
result = client.send(outbox.head(), outbox.depth())
print(result.status, result.describe())
sys.exit(0 if result.ok else 1)
"""


def test_the_installed_console_pairs_a_kiosk_and_takes_its_call(installed):
    data, kiosk_dir = installed["cwd"] / "console-data", installed["cwd"] / "kiosk-data"
    lobbydesk = installed["lobbydesk"]
    _in_venv(installed, [lobbydesk, "admin", "init-building", "--data-dir", data,
                         "--name", "翠湖花园", "--name-en", "Green Lake", "--floors", "2"])  # fmt: skip
    _in_venv(installed, [lobbydesk, "admin", "create-staff", "--data-dir", data,
                         "--username", "admin", "--display-name", "管理员", "--role", "admin",
                         "--password-stdin"], input=PASSWORD + "\n")  # fmt: skip
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = installed["cwd"] / "console.log"
    with log.open("w") as output:
        console = subprocess.Popen(
            [lobbydesk, "console", "--init", "--data-dir", data, "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=installed["env"],
            cwd=installed["cwd"],
        )
    staff = requests.Session()
    try:
        _wait_until_serving(console, url, log)
        _sign_in(staff, url)
        kiosks_page = staff.get(f"{url}/admin/kiosks/", timeout=10).text
        assert f"控制台版本 · Console version {__version__}" in kiosks_page
        assert f"Lobby Desk {__version__}</small></footer>" in kiosks_page
        code = _new_pairing_code(staff, url, kiosks_page)

        paired = _in_venv(installed, [lobbydesk, "kiosk", "--console", url, "--pair", code,
                                      "--data-dir", kiosk_dir], check=False)  # fmt: skip
        assert paired.returncode == 3, paired.stderr  # paired, then: no display here
        assert f"Paired as {KIOSK_NAME!r}" in paired.stdout
        assert "No display" in paired.stderr

        sent = _in_venv(installed, [installed["python"], "-c", CALL_RECEPTION, url,
                                    kiosk_dir / "kiosk.db"])  # fmt: skip
        assert sent.stdout.split()[0] in ("200", "201"), sent.stdout
        queue = staff.get(f"{url}/", timeout=10).text
        assert "呼叫前台 · Call reception" in queue and KIOSK_NAME in queue
    finally:
        staff.close()
        console.send_signal(signal.SIGINT)
        try:
            console.wait(timeout=15)
        except subprocess.TimeoutExpired:
            console.kill()
            console.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(process, url, log, deadline_seconds=60):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the console stopped:\n{log.read_text()}"
        try:
            if requests.get(f"{url}/login", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the console did not answer in {deadline_seconds} s:\n{log.read_text()}")


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _sign_in(session, url) -> None:
    token = _csrf(session.get(f"{url}/login", timeout=10).text)
    form = {"username": "admin", "password": PASSWORD, "csrf_token": token}
    answer = session.post(f"{url}/login", data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text


def _new_pairing_code(session, url, kiosks_page) -> str:
    form = {"name": KIOSK_NAME, "csrf_token": _csrf(kiosks_page)}
    page = session.post(f"{url}/admin/kiosks/", data=form, timeout=10).text
    return re.search(r'id="pairing-code">([^<]+)<', page).group(1).strip()
