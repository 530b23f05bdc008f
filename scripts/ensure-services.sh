#!/usr/bin/env bash
# Makes sure the servers the tests need answer: MariaDB (MYSQL_URL) and Redis (REDIS_URL), both on
# loopback by default. A loopback server that is down is started; one that is not installed is
# installed from Debian's packages first (needs root). A server elsewhere is only checked.
set -euo pipefail

MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# scheme://[user[:password]@]host[:port][/path] -> "host port user password path"
parse_url() {
  local rest=${1#*://} auth='' user='' password='' hostport path=''
  if [[ $rest == */* ]]; then path=${rest#*/}; rest=${rest%%/*}; fi
  if [[ $rest == *@* ]]; then auth=${rest%@*}; rest=${rest##*@}; fi
  user=${auth%%:*}; [[ $auth == *:* ]] && password=${auth#*:}
  hostport=$rest
  printf '%s %s %s %s %s\n' "${hostport%%:*}" "$( [[ $hostport == *:* ]] && echo "${hostport##*:}" || echo "$2")" "${user:-_}" "${password:-_}" "${path:-_}"
}

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
is_loopback() { [[ $1 == 127.* || $1 == localhost || $1 == ::1 ]]; }

wait_for() { # name host port seconds
  local deadline=$((SECONDS + $4))
  until answers "$2" "$3"; do
    ((SECONDS < deadline)) || die "$1 on $2:$3 did not answer within $4 s"
    sleep 0.5
  done
}

apt_install() {
  [[ $(id -u) == 0 ]] || die "$* is not installed and this is not root: install it, or point the URL at a running server"
  log "installing $* from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_mariadb() {
  read -r host port user password database <<<"$(parse_url "$MYSQL_URL" 3306)"
  [[ $user == _ ]] && user=root
  [[ $database == _ ]] && database=test
  if ! answers "$host" "$port"; then
    is_loopback "$host" || die "MariaDB at $host:$port does not answer (MYSQL_URL)"
    command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || apt_install mariadb-server mariadb-client
    log "starting MariaDB on $host:$port"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --port="$port"
    wait_for MariaDB "$host" "$port" 60
  fi
  local client=(mariadb --protocol=TCP -h "$host" -P "$port" -u "$user")
  [[ $password != _ ]] && client+=("-p$password")
  if ! "${client[@]}" -e 'SELECT 1' >/dev/null 2>&1 && is_loopback "$host" && [[ $user == root && $password == _ ]]; then
    # A fresh Debian install lets root in through the socket only; open TCP for root without a password, loopback only.
    log "allowing root over TCP on loopback"
    mariadb -u root <<'SQL'
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
FLUSH PRIVILEGES;
SQL
  fi
  "${client[@]}" -e "CREATE DATABASE IF NOT EXISTS \`$database\`" || die "cannot log in to MariaDB at $host:$port as $user"
  log "MariaDB answers on $host:$port, database $database"
}

# The lexer differential test starts a private MariaDB of its own (test/support/mariadb-server.ts),
# even when MYSQL_URL points at a server elsewhere: it needs the server's binaries here.
ensure_mariadb_binaries() {
  if ! command -v mariadb-install-db >/dev/null || ! { command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; }; then
    apt_install mariadb-server
  fi
}

ensure_redis() {
  read -r host port _ _ _ <<<"$(parse_url "$REDIS_URL" 6379)"
  if ! answers "$host" "$port"; then
    is_loopback "$host" || die "Redis at $host:$port does not answer (REDIS_URL)"
    command -v redis-server >/dev/null || apt_install redis-server
    log "starting Redis on $host:$port"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save '' --appendonly no --dir /tmp \
      --logfile "/tmp/mirrorguard-redis-$port.log" >/dev/null
    wait_for Redis "$host" "$port" 30
  fi
  [[ $(redis-cli -h "$host" -p "$port" PING 2>/dev/null) == PONG ]] || log "Redis on $host:$port answers but PING did not (auth?)"
  log "Redis answers on $host:$port"
}

ensure_mariadb
ensure_mariadb_binaries
ensure_redis
