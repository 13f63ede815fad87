"""The drills' people and records, written through the platform's own services into the
scratch database (run by tests/resilience/conftest.py in a process of the stack):

- the regions and the service centres of Sichuan;
- county staff of 锦江区 (`drill_staff`, with a confirmed authenticator) and a colleague
  (`drill_colleague`) to hand a case to; province staff (`drill_province`, with an
  authenticator), who may rebuild the operations rollups;
- an enterprise of 锦江区 and its user (`drill_erin`), with a published demand and its case.

Prints one JSON line: the names, the password, the authenticator key and the record ids.
"""

from __future__ import annotations

import json

import django

django.setup()

from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from kejiyun.cases.workflow.services import case_open  # noqa: E402
from kejiyun.regions.services import regions_load, service_centres_ensure  # noqa: E402
from tests.builders import (  # noqa: E402
    PASSWORD,
    make_demand,
    make_enterprise,
    make_enterprise_user,
    make_staff,
)


def main() -> None:
    regions_load()
    service_centres_ensure(province_code="510000")
    staff = make_staff("drill_staff", "510104")
    colleague = make_staff("drill_colleague", "510104")
    device = TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)
    province = make_staff("drill_province", "510000")
    province_device = TOTPDevice.objects.create(user=province, name="authenticator", confirmed=True)
    organisation = make_enterprise("演练茶业有限公司", "510104", "77")
    enterprise_user = make_enterprise_user(organisation, "drill_erin")
    demand = make_demand(
        organisation,
        title="茶园病虫害绿色防控",
        description="茶园近两年病虫害加重，希望找到绿色防控的办法，减少农药用量。",
        industry="茶叶种植",
    )
    case = case_open(demand=demand, actor=staff)
    print(
        json.dumps(
            {
                "password": PASSWORD,
                "staff": staff.username,
                "staff_id": staff.pk,
                "totp_key": device.key,
                "colleague_id": colleague.pk,
                "province_staff": province.username,
                "province_totp_key": province_device.key,
                "enterprise_user": enterprise_user.username,
                "enterprise_user_id": enterprise_user.pk,
                "demand_id": demand.pk,
                "case_id": case.pk,
            }
        )
    )


if __name__ == "__main__":
    main()
