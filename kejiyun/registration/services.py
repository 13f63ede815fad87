"""Writes for self-registration: the user (through accounts) and the role's profile."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from kejiyun.accounts.models import Role, User
from kejiyun.accounts.services import user_create_self_registered, user_registration_check
from kejiyun.pagecache.services import TALENT, content_changed
from kejiyun.popsci.models import AgeBand, CitizenProfile, Segment
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile


@dataclass(frozen=True)
class Registration:
    role: str
    display_name: str
    mobile: str
    password: str
    sms_code: str
    region: Region
    employer: str = ""
    title: str = ""
    organisation_name: str = ""
    uscc: str = ""
    industry: str = ""
    occupation: str = ""
    age_band: str = ""


def user_register(*, registration: Registration) -> User:
    """Create a self-registered S&T worker, enterprise user or citizen.

    Everything is checked first; the SMS code is then claimed inside the same transaction
    as the writes, so a failure anywhere creates nothing and leaves the code usable.
    """
    r = registration
    sms_code = user_registration_check(
        role=r.role, region=r.region, mobile=r.mobile, uscc=r.uscc, sms_code=r.sms_code
    )
    with transaction.atomic():
        user = user_create_self_registered(
            role=r.role,
            display_name=r.display_name,
            mobile=r.mobile,
            password=r.password,
            region=r.region,
            sms_code=sms_code,
            organisation_name=r.organisation_name,
            uscc=r.uscc,
            industry=r.industry,
        )
        if r.role == Role.WORKER:
            TalentProfile.objects.create(
                user=user,
                region=r.region,
                employer=r.employer,
                title=r.title,
                directory_consent=True,
            )
            content_changed(TALENT)  # listed in the public expert directory at once
        elif r.role == Role.CITIZEN:
            CitizenProfile.objects.create(
                user=user,
                region=r.region,
                region_code=r.region.code,
                occupation=r.occupation or Segment.OTHER,
                age_band=r.age_band or AgeBand.AGE_18_35,
            )
    return user
