# Sourced by demo.sh and test.sh: sets PYTHON to an interpreter with maildesk installed
# (editable, with the extras given as arguments: "" or "[test]").
#
# A python3 that can install packages (a virtualenv, pyenv, a hand-built Python) is used
# as it is. Debian's own python3 cannot: it has no pip and refuses installs into the system
# ("externally managed", PEP 668). Then maildesk gets a virtualenv of its own in .venv,
# after apt-get installs python3-venv when it is missing.

_python_can_install() {
    python3 -m pip --version >/dev/null 2>&1 || return 1
    python3 - <<'EOF'
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(1 if managed and sys.prefix == sys.base_prefix else 0)
EOF
}

_python_log() { printf 'python-env: %s\n' "$*" >&2; }

maildesk_python() { # extras ("" or "[test]") -> sets PYTHON
    local extras="${1:-}" venv=".venv"
    command -v python3 >/dev/null || { _python_log "ERROR: python3 not found"; return 1; }
    if _python_can_install; then
        PYTHON="python3"
    else
        if [[ ! -x "$venv/bin/python" ]]; then
            if ! python3 -m venv "$venv" >/dev/null 2>&1; then
                rm -rf "$venv"
                command -v apt-get >/dev/null ||
                    { _python_log "ERROR: python3 cannot create a virtualenv (no venv module)"; return 1; }
                _python_log "installing python3-venv (apt-get)"
                local minor pkgs
                minor="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
                pkgs=(python3-venv "python${minor}-venv")
                # stale package lists: refresh once and retry
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2 ||
                    { apt-get update -qq >&2 &&
                        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2; }
                python3 -m venv "$venv" >&2
            fi
            _python_log "created the virtualenv $venv (this python3 installs nothing itself)"
        fi
        PYTHON="$(pwd)/$venv/bin/python"
    fi
    "$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".${extras}" 2>&1 |
        grep -v "Running pip as the 'root'" >&2 || true
    "$PYTHON" -c "import maildesk" 2>/dev/null ||
        { _python_log "ERROR: maildesk did not install with $PYTHON (see pip's messages above)"; return 1; }
    export PYTHON
}
