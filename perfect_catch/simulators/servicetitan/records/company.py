"""The company's setup: business units, technicians, office employees, job types, campaigns."""

from __future__ import annotations

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.people import phone_digits
from perfect_catch.simulators.servicetitan.records.shared import Record, stamps
from perfect_catch.simulators.servicetitan.timefmt import format_date
from perfect_catch.simulators.servicetitan.universe import Universe


def business_unit(u: Universe, i: int) -> Record:
    created, modified = stamps(u, "business-units", i)
    name, division = cat.BUSINESS_UNITS[i % len(cat.BUSINESS_UNITS)]
    return {
        "id": u.id_of("business-units", i),
        "active": True,
        "name": name,
        "officialName": f"Perfect Catch Pool & Electric - {name}",
        "email": f"{name.lower().replace(' ', '.')}@perfectcatch.example",
        "currency": "USD",
        "phoneNumber": "6025550100",
        "invoiceHeader": None,
        "invoiceMessage": "Thank you for your business!",
        "defaultTaxRate": 0.086,
        "authorizationParagraph": None,
        "acknowledgementParagraph": None,
        "address": {
            "street": "4410 E Camelback Rd",
            "unit": None,
            "city": "Phoenix",
            "state": "AZ",
            "zip": "85018",
            "country": "USA",
            "latitude": 33.509,
            "longitude": -111.985,
            "isManualCoordinates": False,
            "isMilitary": False,
        },
        "materialSku": None,
        "quickbooksClass": division,
        "accountCode": None,
        "franchiseId": None,
        "conceptCode": None,
        "corporateContractNumber": None,
        "trade": {"id": 1 + (division == "Electrical"), "name": division},
        "division": {"id": 10 + i, "name": division},
        "tagTypeIds": [],
        "tenant": {
            "id": u.tenant_id,
            "name": "Perfect Catch Pool & Electric",
            "accountCode": None,
            "franchiseId": None,
            "conceptCode": None,
            "modifiedOn": modified,
        },
        "createdOn": created,
        "modifiedOn": modified,
        "externalData": [],
    }


def technician(u: Universe, i: int) -> Record:
    d = u.draw("technicians", i)
    created, modified = stamps(u, "technicians", i)
    first, last = d.pick(cat.FIRST_NAMES), d.pick(cat.LAST_NAMES)
    bu = i % 5
    return {
        "id": u.id_of("technicians", i),
        "userId": 900_000 + i,
        "name": f"{first} {last}",
        "roleIds": [],
        "businessUnitId": u.id_of("business-units", bu),
        "mainZoneId": None,
        "zoneIds": [],
        "createdOn": created,
        "modifiedOn": modified,
        "email": f"{first.lower()}.{last.lower().replace(' ', '')}@perfectcatch.example",
        "phoneNumber": phone_digits(d),
        "loginName": f"{first[0].lower()}{last.lower()}",
        "home": None,
        "dailyGoal": float(1500 + 100 * d.below(10)),
        "isManagedTech": True,
        "licenseType": "ManagedTech",
        "customFields": [],
        "active": i != 13,
        "aadUserId": None,
        "burdenRate": 0.0,
        "team": "Pool" if bu < 3 else "Electrical",
        "jobFilter": None,
        "permissions": [],
        "accountLocked": False,
        "commissionRate": 0.05,
        "currentValue": None,
        "firstName": first,
        "lastName": last,
        "hourlyRate": float(24 + d.below(16)),
        "jobId": None,
        "mobilePhone": phone_digits(d),
        "outboundCallerId": None,
        "payrollId": f"P{1000 + i}",
        "payrollProfileId": None,
        "appoitmentId": None,
        "shiftStart": "07:00:00",
        "shiftEnd": "16:00:00",
        "soldByRate": 0.0,
        "startDate": format_date(u.created_ticks("technicians", i)),
        "status": "Idle",
        "skills": [],
        "positions": [cat.TECHNICIAN_POSITIONS[i % len(cat.TECHNICIAN_POSITIONS)]],
        "location": None,
        "bio": None,
        "memo": None,
    }


def technician_name(u: Universe, index: int) -> str:
    """Same draws as `technician`, so assignments name the technician's record."""
    names = u.memo.get("technician_names")
    if names is None:
        names = []
        for k in range(u.counts["technicians"]):
            d = u.draw("technicians", k)
            names.append(f"{d.pick(cat.FIRST_NAMES)} {d.pick(cat.LAST_NAMES)}")
        u.memo["technician_names"] = names
    return names[index % len(names)]


def employee(u: Universe, i: int) -> Record:
    d = u.draw("employees", i)
    created, modified = stamps(u, "employees", i)
    first, last = d.pick(cat.FIRST_NAMES), d.pick(cat.LAST_NAMES)
    role = ("CSR", "Dispatch", "Accounting", "SalesManager", "GeneralOffice", "Admin")[i % 6]
    return {
        "customFields": [],
        "permissions": [],
        "id": u.id_of("employees", i),
        "userId": 800_000 + i,
        "name": f"{first} {last}",
        "firstName": first,
        "lastName": last,
        "managerId": None,
        "role": role,
        "roleIds": [],
        "businessUnitId": None,
        "createdOn": created,
        "modifiedOn": modified,
        "email": f"{first.lower()}@perfectcatch.example",
        "phoneNumber": phone_digits(d),
        "loginName": f"{first.lower()}{i}",
        "active": i < 22,
        "aadUserId": None,
        "accountLocked": False,
        "home": None,
        "agentId": 0,
        "startDate": format_date(u.created_ticks("employees", i)),
        "terminationDate": None,
        "hourlyRate": float(18 + d.below(12)),
        "overtimeProfileId": None,
    }


def job_type(u: Universe, i: int) -> Record:
    created, modified = stamps(u, "job-types", i)
    name, bu, duration, priority = cat.JOB_TYPES[i % len(cat.JOB_TYPES)]
    return {
        "id": u.id_of("job-types", i),
        "name": name,
        "businessUnitIds": [u.id_of("business-units", bu)],
        "skills": [],
        "tagTypeIds": [],
        "priority": priority,
        "duration": duration,
        "soldThreshold": None,
        "class": cat.BUSINESS_UNITS[bu][1],
        "summary": "",
        "noCharge": name == "Warranty Call",
        "enforceRecurringServiceEventSelection": False,
        "invoiceSignaturesRequired": False,
        "modifiedOn": modified,
        "createdOn": created,
        "externalData": [],
        "active": True,
        "isSmartDispatched": False,
    }


def campaign(u: Universe, i: int) -> Record:
    created, modified = stamps(u, "campaigns", i)
    name, category = cat.CAMPAIGNS[i % len(cat.CAMPAIGNS)]
    return {
        "id": u.id_of("campaigns", i),
        "name": name,
        "modifiedOn": modified,
        "createdOn": created,
        "active": name != "Direct Mail",
        "isDefaultCampaign": name == "Repeat Customer",
        "category": {"id": 100 + i, "name": category, "active": True},
        "source": None,
        "otherSource": None,
        "businessUnit": None,
        "medium": None,
        "otherMedium": None,
        "campaignPhoneNumbers": [f"480555{1000 + i:04d}"],
    }
