# ruff: noqa  (deliberately bad code: the fixture the semgrep rules must find)
# Fixture for .semgrep/python.yml: `semgrep --test .semgrep/` checks that every line marked
# `ruleid:` is found and no line marked `ok:` is.
from django.db import connection
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt


def page(request, name):
    # ruleid: kejiyun-mark-safe-on-dynamic-text
    a = mark_safe(name)
    # ruleid: kejiyun-mark-safe-on-dynamic-text
    b = format_html(f"<b>{name}</b>")
    # ruleid: kejiyun-mark-safe-on-dynamic-text
    c = format_html("<b>%s</b>" % name)
    # ruleid: kejiyun-mark-safe-on-dynamic-text
    d = format_html(name)
    # ok: kejiyun-mark-safe-on-dynamic-text
    e = format_html("<b>{}</b>", name)
    # ok: kejiyun-mark-safe-on-dynamic-text
    f = mark_safe("<hr>")
    return a, b, c, d, e, f


# ruleid: kejiyun-no-csrf-exempt
@csrf_exempt
def hook(request):
    return None


# ruleid: kejiyun-no-csrf-exempt
wrapped = csrf_exempt(page)

# ruleid: kejiyun-no-debug-true
DEBUG = True
# ok: kejiyun-no-debug-true
DEBUG = False


def report(request, code, Demand):
    with connection.cursor() as cursor:
        # ruleid: kejiyun-no-formatted-raw-sql
        cursor.execute(f"SELECT * FROM regions_region WHERE code = '{code}'")
        # ruleid: kejiyun-no-formatted-raw-sql
        cursor.execute("SELECT * FROM regions_region WHERE code = '%s'" % code)
        # ruleid: kejiyun-no-formatted-raw-sql
        cursor.execute("SELECT * FROM regions_region WHERE code = '{}'".format(code))
        # ok: kejiyun-no-formatted-raw-sql
        cursor.execute("SELECT * FROM regions_region WHERE code = %s", [code])
    # ruleid: kejiyun-no-formatted-raw-sql
    Demand.objects.raw(f"SELECT * FROM demands_demand WHERE title = '{code}'")
    # ok: kejiyun-no-formatted-raw-sql
    return Demand.objects.raw("SELECT * FROM demands_demand WHERE title = %s", [code])
