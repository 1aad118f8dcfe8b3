#!/usr/bin/env bash
# Start the machine's PostgreSQL and create the two test roles: an owner that runs migrations, and an
# application role that owns nothing and has no BYPASSRLS (DESIGN §3). Idempotent.
# With --print-env it only prints the variables the tests read.
set -euo pipefail
owner=shadan_owner
app=shadan_app
# Throwaway credentials for a loopback test server; never used outside tests.
owner_pw=${SHADAN_TEST_PG_OWNER_PASSWORD:-owner-test-only}
app_pw=${SHADAN_TEST_PG_APP_PASSWORD:-app-test-only}

if [ "${1:-}" = "--print-env" ]; then
  echo "export SHADAN_TEST_PG_URL=postgresql+psycopg://$owner:$owner_pw@127.0.0.1:5432/postgres"
  echo "export SHADAN_TEST_PG_APP_URL=postgresql+psycopg://$app:$app_pw@127.0.0.1:5432/postgres"
  exit 0
fi

version=$(ls /etc/postgresql | sort -n | tail -n 1)
pg_ctlcluster "$version" main start 2>/dev/null || pg_ctlcluster "$version" main status >/dev/null
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1" && break
  sleep 1
done
su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$owner') THEN
    CREATE ROLE $owner LOGIN CREATEDB PASSWORD '$owner_pw';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$app') THEN
    CREATE ROLE $app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '$app_pw';
  END IF;
END
\$\$;
-- Lets the owner drop a test database while application-role connections are still closing.
GRANT pg_signal_backend TO $owner;
SQL
