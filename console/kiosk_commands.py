"""Staff commands to one kiosk: "exit the app for maintenance" (docs/INSTALL_KIOSK.md).

The lobby screen offers no way out, by design; this is the staff's way. The
kiosk hears the command on its feed and stops with the staff exit code, which
its watchdog (kiosk/watchdog.py) takes as "stay stopped".
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, url_for

from console import live
from console.confirm import Confirmation, confirm_page, confirmed, refused
from console.db import get_db
from console.security import role_required
from shared import kiosk_commands
from shared.db import one
from shared.errors import NotFound

bp = Blueprint("kiosk_commands", __name__, url_prefix="/admin/kiosks")


def _exit_confirmation(kiosk_id: int) -> Confirmation:
    kiosk = one(
        get_db(),
        "SELECT name FROM kiosks WHERE id = ? AND revoked_at IS NULL AND paired_at IS NOT NULL",
        (kiosk_id,),
    )
    if kiosk is None:
        abort(404, description="没有这台已配对的终端 · No paired kiosk with that number.")
    name = kiosk["name"]
    return Confirmation(
        title_zh="退出终端应用（维护）？",
        title_en="Exit the kiosk app for maintenance?",
        consequence="终端下次联系控制台时（在线时约一秒内）关闭大堂屏幕上的应用，并保持关闭，"
        "直到在终端电脑上执行 sudo systemctl restart lobbydesk-kiosk 或重启电脑；"
        "期间访客无法使用这台终端 · The kiosk closes its app on its next contact with the "
        "console (within about a second when online) and stays closed until someone runs "
        "sudo systemctl restart lobbydesk-kiosk on it or restarts the PC; meanwhile "
        "visitors cannot use it.",
        tick=f"确认让“{name}”退出应用 · I confirm: exit the app on “{name}”",
        button="退出应用 · Exit app",
        cancel=url_for("kiosks.index"),
        facts=(("终端 · Kiosk", name),),
    )


@bp.get("/<int:kiosk_id>/exit")
@role_required("admin", "manager")
def confirm_exit(kiosk_id: int):
    return confirm_page(_exit_confirmation(kiosk_id))


@bp.post("/<int:kiosk_id>/exit")
@role_required("admin", "manager")
def request_exit(kiosk_id: int):
    confirmation = _exit_confirmation(kiosk_id)
    if not confirmed():
        return refused(confirmation)
    try:
        kiosk_commands.request_exit(
            get_db(),
            current_app.extensions["lobbydesk.clock"],
            kiosk_id,
            actor=f"staff:{g.staff['id']}",
        )
    except NotFound as error:  # revoked between the page and the POST
        flash(str(error), "error")
        return redirect(url_for("kiosks.index"))
    live.hub(current_app).publish()  # its long-poll answers now
    flash(
        "已通知终端退出应用 · The kiosk was told to exit its app; it does so on its next contact.",
        "ok",
    )
    return redirect(url_for("kiosks.index"))
