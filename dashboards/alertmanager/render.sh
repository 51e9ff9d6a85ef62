#!/bin/sh
# The Alertmanager container's entrypoint (POSIX sh: the image is busybox). Renders the template
# ($ALERTMANAGER_TEMPLATE, alertmanager.yml) into $ALERTMANAGER_RENDERED, each @NAME@ replaced
# by the environment variable NAME, then runs its arguments (Alertmanager on the rendered file).
# Exits 1, naming the variable, when one is unset or holds a character sed would misread.
# tests/dashboards/test_rules.py runs this script with amtool in place of Alertmanager.
set -eu
template=${ALERTMANAGER_TEMPLATE:-/etc/alertmanager/alertmanager.yml}
rendered=${ALERTMANAGER_RENDERED:-/alertmanager/alertmanager.yml}
script=""
for name in ALERTMANAGER_SMTP_SMARTHOST ALERTMANAGER_SMTP_FROM ALERTMANAGER_SMTP_USERNAME \
    ALERTMANAGER_LEAD_TO ALERTMANAGER_OPERATORS_TO ALERTMANAGER_ONCALL_TO; do
    eval "value=\${$name:-}"
    if [ -z "$value" ]; then
        echo "render.sh: set $name" >&2
        exit 1
    fi
    case $value in
        *'|'* | *'&'* | *'\'* | *'"'*)
            echo "render.sh: $name must not contain | & \\ or \"" >&2
            exit 1
            ;;
    esac
    script="$script s|@$name@|$value|g;"
done
sed -e "$script" "$template" >"$rendered"
if grep -q '@ALERTMANAGER_[A-Z_]*@' "$rendered"; then
    echo "render.sh: $template has a placeholder this script does not know" >&2
    exit 1
fi
exec "$@"
