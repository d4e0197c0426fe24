"""A small blocking D-Bus client for ModemManager, on jeepney (pure Python, imports on Windows too).

ModemManager lives on the system bus (``DBUS_SYSTEM_BUS_ADDRESS`` overrides where that is, as the
tests do with a private bus). Errors come back as :class:`MMCallError` with the D-Bus error name, so
callers can tell "not supported" and "not allowed" from "gone". Variants are unwrapped to plain
Python values.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .errors import DeviceError

MM = "org.freedesktop.ModemManager1"
MM_PATH = "/org/freedesktop/ModemManager1"
PROPS = "org.freedesktop.DBus.Properties"

#: D-Bus error names meaning "the caller is not allowed" (polkit said no)
DENIED = ("org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.ModemManager1.Error.Core.Unauthorized",
          "org.freedesktop.DBus.Error.AuthFailed")
#: ... "the modem or ModemManager cannot do this"
UNSUPPORTED = ("org.freedesktop.ModemManager1.Error.Core.Unsupported", "org.freedesktop.DBus.Error.UnknownMethod",
               "org.freedesktop.DBus.Error.UnknownInterface", "org.freedesktop.DBus.Error.UnknownProperty",
               "org.freedesktop.ModemManager1.Error.Core.NotFound")
#: ... "the object or the service went away" (modem unplugged, ModemManager restarted)
GONE = ("org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner", "org.freedesktop.DBus.Error.NoReply",
        "org.freedesktop.DBus.Error.Disconnected")


class MMCallError(DeviceError):
    """A ModemManager D-Bus call failed; ``name`` is the D-Bus error name."""

    def __init__(self, what: str, name: str, message: str = "") -> None:
        self.name = name
        self.denied = name in DENIED
        self.unsupported = name in UNSUPPORTED
        self.gone = name in GONE
        super().__init__(f"ModemManager {what}: {name}" + (f": {message}" if message else ""))


def unwrap(v: Any) -> Any:
    """jeepney variants are ``(signature, value)`` tuples: return plain values, recursively."""
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) and len(v[0]) >= 1 \
            and all(c in "ybnqiuxtdsogavh(){}" for c in v[0]):
        return unwrap(v[1])
    if isinstance(v, dict):
        return {k: unwrap(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unwrap(x) for x in v]
    return v


class MMBus:
    """One connection to the bus ModemManager is on. Thread-safe (one call at a time)."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or "SYSTEM"
        try:
            self._conn = open_dbus_connection(bus=address)
        except (OSError, ValueError, KeyError) as exc:
            raise MMCallError("bus", "org.freedesktop.DBus.Error.Disconnected",
                              f"cannot connect to the system D-Bus ({exc})") from exc

    def call(self, path: str, interface: str, method: str, signature: str | None = None, body: tuple = (),
             *, timeout_s: float | None = None) -> tuple:
        """Call a method and return its (unwrapped) reply body; :class:`MMCallError` on a D-Bus error."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        msg = new_method_call(DBusAddress(path, bus_name=MM, interface=interface), method, signature, body)
        with self._lock:
            try:
                reply = self._conn.send_and_get_reply(msg, timeout=timeout_s or self.timeout_s)
                return tuple(unwrap(x) for x in unwrap_msg(reply))
            except DBusErrorResponse as exc:
                text = exc.data[0] if exc.data and isinstance(exc.data[0], str) else ""
                raise MMCallError(f"{interface.rsplit('.', 1)[-1]}.{method} on {path}", exc.name, text) from None
            except TimeoutError:
                raise MMCallError(f"{method} on {path}", "org.freedesktop.DBus.Error.NoReply", "no reply") from None
            except (OSError, EOFError) as exc:
                raise MMCallError(f"{method} on {path}", "org.freedesktop.DBus.Error.Disconnected", str(exc)) from None

    def running(self) -> bool:
        """True when ModemManager owns its bus name now (asked of the bus itself, so that listing modems
        never starts ModemManager through D-Bus activation)."""
        from jeepney import message_bus
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        with self._lock:
            try:
                reply = self._conn.send_and_get_reply(message_bus.NameHasOwner(MM), timeout=self.timeout_s)
                return bool(unwrap_msg(reply)[0])
            except (DBusErrorResponse, TimeoutError, OSError, EOFError):
                return False

    def get_all(self, path: str, interface: str) -> dict[str, Any]:
        """Every property of ``interface`` on ``path``."""
        return self.call(path, PROPS, "GetAll", "s", (interface,))[0]

    def managed_objects(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{object path: {interface: {property: value}}}`` of everything ModemManager exports."""
        return self.call(MM_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")[0]

    def close(self) -> None:
        """Close the connection."""
        try:
            self._conn.close()
        except OSError:
            pass
