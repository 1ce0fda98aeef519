#!/usr/bin/env bash
# Prepare a machine (fresh or not) for the whole test suite; safe to run again.
# - .venv with the package and its test dependencies (pyproject.toml [test])
# - .venv-checkov with checkov (its pins conflict with boto3/packaging in .venv)
# - PostgreSQL on 127.0.0.1:5432 and MariaDB/MySQL on 127.0.0.1:3306, started or installed
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CHECKOV_VERSION=3.3.30
log() { echo "bootstrap: $*" >&2; }

if [ ! -x .venv/bin/python ]; then "$PYTHON" -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

if ! .venv-checkov/bin/checkov --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  "$PYTHON" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi

# The runtime tests run the container as its task definition's User (uid 1000, not root), with
# this checkout's venv: that user must be able to reach the interpreter the venv links to (pyenv
# keeps it under /root, mode 700 on some machines). Let others traverse, not list, its parents.
if [ "$(id -u)" = 0 ]; then
  interpreter=$(readlink -f .venv/bin/python)
  path=""
  for part in $(dirname "$interpreter" | tr / ' '); do  # from / down, so parents come first
    path="$path/$part"
    if ! setpriv --reuid=1000 --regid=1000 --clear-groups test -x "$path" 2>/dev/null; then
      log "letting the container user (uid 1000) traverse $path to reach $interpreter"
      chmod o+x "$path"
    fi
  done
fi

port_open() { .venv/bin/python -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1', $1)))"; }
wait_port() { for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done; return 1; }
apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then log "cannot install $*: not root on Debian"; return 1; fi
  if [ -z "${APT_UPDATED:-}" ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Graphviz renders the architecture diagram (mlflow-cfn diagram and its test).
command -v dot >/dev/null || apt_install graphviz || log "graphviz (dot) could not be installed"

if ! port_open 5432; then
  log "PostgreSQL is not listening on 127.0.0.1:5432: starting it"
  command -v pg_ctlcluster >/dev/null || apt_install postgresql || true
  if command -v pg_ctlcluster >/dev/null; then
    version=$(ls /etc/postgresql | sort -n | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  wait_port 5432 || log "PostgreSQL did not come up"
fi
# A fresh Debian install asks for a password on TCP; the tests connect as postgres/postgres then.
if port_open 5432 && command -v psql >/dev/null && ! psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" || true
  fi
fi

# The runtime tests connect like the container does on Aurora: TLS required (sslmode=require) and
# a real password check. Give the local server a self-signed certificate and make it ask test
# users (members of mlflow_cfn_test) for their password even where it trusts everyone else.
pg() { if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then su postgres -c "psql -qAtX -c \"$1\""; else psql -h 127.0.0.1 -U postgres -qAtX -c "$1"; fi; }
if port_open 5432 && command -v psql >/dev/null; then
  conf_dir=$(dirname "$(pg 'SHOW config_file')")
  hba=$(pg 'SHOW hba_file')
  if [ "$(pg 'SHOW ssl')" != on ] && [ -w "$conf_dir" ]; then
    log "enabling TLS on the local PostgreSQL (self-signed certificate)"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 \
      -keyout "$conf_dir/mlflow-cfn-test.key" -out "$conf_dir/mlflow-cfn-test.crt" 2>/dev/null
    chown postgres:postgres "$conf_dir"/mlflow-cfn-test.* && chmod 600 "$conf_dir/mlflow-cfn-test.key"
    pg "ALTER SYSTEM SET ssl_cert_file = '$conf_dir/mlflow-cfn-test.crt'"
    pg "ALTER SYSTEM SET ssl_key_file = '$conf_dir/mlflow-cfn-test.key'"
    pg "ALTER SYSTEM SET ssl = on"
  fi
  pg "SELECT 1 FROM pg_roles WHERE rolname = 'mlflow_cfn_test'" | grep -q 1 || pg "CREATE ROLE mlflow_cfn_test NOLOGIN"
  if [ -w "$hba" ] && ! grep -q '+mlflow_cfn_test' "$hba"; then
    sed -i '1i host all +mlflow_cfn_test 127.0.0.1/32 scram-sha-256\nhostssl all +mlflow_cfn_test 127.0.0.1/32 scram-sha-256' "$hba"
  fi
  pg "SELECT pg_reload_conf()" >/dev/null
fi

if ! port_open 3306; then
  log "MariaDB is not listening on 127.0.0.1:3306: starting it"
  [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server || true
  if [ -x /usr/sbin/mariadbd ]; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
  fi
  wait_port 3306 || log "MariaDB did not come up"
fi
# Aurora MySQL runs with require_secure_transport=ON, so the container's URI asks for TLS; the
# local MariaDB needs a certificate for the MySQL runtime test (its test users REQUIRE SSL).
if port_open 3306 && command -v mysql >/dev/null; then
  # The tests connect as root@127.0.0.1 without a password (as this machine type is set up); a
  # fresh Debian install has only root@localhost over the socket: add the TCP account there.
  if ! mysql -h 127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    mysql -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION" || log "could not add root@127.0.0.1 to MariaDB"
  fi
  my() { mysql -h 127.0.0.1 -uroot -NBe "$1"; }
  if [ "$(my "SHOW VARIABLES LIKE 'have_ssl'" | cut -f2)" != YES ] && [ -x /usr/sbin/mariadbd ] && [ "$(id -u)" = 0 ]; then
    log "enabling TLS on the local MariaDB (self-signed certificate, restart)"
    tls_dir=/etc/mysql/mlflow-cfn-test-tls
    mkdir -p "$tls_dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 \
      -keyout "$tls_dir/server.key" -out "$tls_dir/server.crt" 2>/dev/null
    chown -R mysql:mysql "$tls_dir" && chmod 600 "$tls_dir/server.key"
    if ! grep -q mlflow-cfn-test-tls /etc/mysql/my.cnf; then
      printf '\n[mysqld]\n# mlflow-cfn runtime tests\nssl-cert = %s/server.crt\nssl-key = %s/server.key\n' \
        "$tls_dir" "$tls_dir" >> /etc/mysql/my.cnf
    fi
    mysqladmin -h 127.0.0.1 -uroot shutdown || true
    for _ in $(seq 1 60); do pgrep -x mariadbd >/dev/null || break; sleep 1; done
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_port 3306 || log "MariaDB did not come back"
  fi
fi
log "ready"
