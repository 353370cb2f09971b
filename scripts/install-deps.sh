#!/usr/bin/env bash
# Installs the Debian packages idsync needs, if they are missing.
#   scripts/install-deps.sh          what building and running need (the quickstart)
#   scripts/install-deps.sh --tests  that, plus the servers and tools the tests start
# Runs apt-get as root (CI and fresh machines); as another user it only reports what is missing.
set -euo pipefail

packages=(
    pkg-config      # finds libpq and libmariadb for diesel
    libpq-dev       # PostgreSQL client library (diesel's postgres backend)
    libmariadb-dev  # MariaDB/MySQL client library (diesel's mysql backend)
    libmariadb-dev-compat
    sqlite3         # handy for looking at the quickstart database
)
test_packages=(
    slapd           # OpenLDAP server for idsync-testkit's private instances (slapd, slapadd,
                    # slappasswd; schemas in /etc/ldap/schema). The system instance is never
                    # used: policy-rc.d keeps it stopped, and debconf runs non-interactively.
    ldap-utils      # ldapsearch/ldapadd/ldapmodify/ldapdelete used by the test kit
    389-ds-base     # 389 Directory Server (FreeIPA's LDAP server) for idsync-testkit's ds389
                    # instances (ns-slapd, dscreate); private prefix, never the system's
    python3-lib389  # dscreate's python library
    postgresql      # PostgreSQL 15 for idsync-testkit's private servers (initdb, postgres, psql,
                    # pg_dump from /usr/lib/postgresql/15/bin); the system cluster is never used
    mariadb-server  # MariaDB for idsync-testkit's private servers (mariadb-install-db, mariadbd,
                    # and via mariadb-client: mariadb, mariadb-dump)
    mediawiki       # MediaWiki 1.39 (/usr/share/mediawiki): its installer and code judge the
                    # mediawiki sink's writes (it pulls apache2 and php, which the tests never run)
    php-cli         # php, to run MediaWiki's installer and tests/php/mw-check.php
    php-sqlite3     # MediaWiki on SQLite (pdo_sqlite)
    php-pgsql       # MediaWiki on PostgreSQL
    php-mysql       # MediaWiki on MariaDB (mysqli)
)

if [ "${1:-}" = "--tests" ]; then
    packages+=("${test_packages[@]}")
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
