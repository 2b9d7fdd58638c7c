"""Census-style synthetic person registers for testing identity resolution.

An independently written generator in the spirit of the US Census Bureau's synthetic registers
(the ``pseudopeople`` package): a population of households, then sources that each see some of
those people through their own form and their own noise. It shares nothing with the project's
demo simulator or its nickname table, so the resolver is tested on data it was not tuned on.

Sources:

* ``census``: one row per person in the household register, with date of birth and address.
* ``tax``: 1040-style rows for filers (about 70% of adults, spouses on joint returns) and their
  dependents: name, SSN and the filing address, which differs from the census one when the filing
  unit has moved. No date of birth, no sex.
* ``ssa``: the social-security register: full middle name, date of birth, SSN, sex; no address.

Two shapes, each one CSV of two sources (``census_tax`` and ``census_ssa``), with the truth in
``person_id``. ``write_register_file`` writes one and returns the role map for the resolver.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

TRUTH_COLUMN = "person_id"
SHAPES = ("census_tax", "census_ssa")
REFERENCE_DATE = date(2020, 4, 1)  # census day

# ---------------------------------------------------------------------------------------------
# Name, street and place lists (roughly in order of US frequency; weights fall along the list)
# ---------------------------------------------------------------------------------------------

MALE_NAMES = """
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew
Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward
Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin
Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry Tyler Aaron Jose Adam Nathan Henry
Douglas Zachary Peter Kyle Ethan Walter Noah Jeremy Christian Keith Roger Terry Gerald Harold Sean
Austin Carl Arthur Lawrence Dylan Jesse Jordan Bryan Billy Joe Bruce Gabriel Logan Albert Willie
Alan Juan Wayne Elijah Randy Roy Vincent Ralph Eugene Russell Bobby Mason Philip Louis Harry Howard
Fred Martin Craig Shawn Clarence Ernest Victor Phillip Todd Dale Curtis Luis Carlos Travis Chad
Derek Mitchell Marcus Lee Allen Leonard Troy Stanley Barry Edwin Francis Herbert Bernard Melvin
Glenn Alfred Leroy Marvin Calvin Theodore Clifford Jesus Oscar Ronnie Hector Ricardo Manuel Miguel
Antonio Rafael Alex Omar Andre Darrell Lonnie Duane Jimmy Tony Danny Johnny Leon Nathaniel Caleb
Isaac Owen Luke Hunter Connor Evan Cameron Isaiah Wyatt Jackson Levi Julian Aiden Liam Lucas Carter
Grayson Landon Colton Hudson Ian Chase Cole Blake Garrett Spencer Trevor Seth Brett Derrick Marc
Neil Wesley Ross Grant Max Shane Dustin Clayton Jay Dean Gordon Lloyd Floyd Warren Lewis Norman
Earl Ray Gene Glen Karl Lance Lester Milton Rodney Roberto Ruben Sergio Eduardo Javier Fernando
Mario Pedro Jorge Armando Ramon Julio Raul Angel Alberto Enrique Francisco Diego Andres Kenji Wei
Ravi Amir Malik Tyrone Jamal Terrence Dwayne Reginald Cedric Maurice Darnell Lamar Frederick Harvey
Elmer Chester Franklin Dominic Xavier Brendan Colin Tristan
""".split()  # noqa: SIM905

FEMALE_NAMES = """
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret
Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca
Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha
Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather Diane Ruth Julie Olivia
Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith Megan Andrea Cheryl Hannah
Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn Janice Jean Abigail Alice Judy
Sophia Grace Denise Amber Doris Marilyn Danielle Beverly Isabella Theresa Diana Natalie Brittany
Charlotte Marie Kayla Alexis Lori Tiffany Rose Florence Kristen Alyssa Jane Lillian Crystal Tammy
Tracy Dawn Wendy Paula Erin Sherry Monica Valerie Jill Holly Leslie Colleen Vanessa Erica Bonnie
Ellen Katie Lindsey Courtney Melanie Suzanne Renee Caroline Chloe Ava Mia Ella Avery Harper Addison
Aubrey Zoe Lily Layla Brooklyn Peyton Savannah Claire Audrey Paige Morgan Taylor Jasmine Destiny
Gabriela Ana Carmen Rosa Yolanda Guadalupe Alicia Lucia Elena Sofia Camila Valeria Ximena Daniela
Adriana Veronica Leticia Irma Norma Gladys Edna Mildred Ethel Lois Phyllis Connie Joanne Sylvia
Anita Rita Marlene Irene Eileen Lorraine Bernice Darlene Tonya Yvonne Latoya Keisha Tamika Ebony
Aaliyah Imani Jada Mei Priya Aisha Fatima Naomi Ruby Stella Hazel Violet Nora Eleanor Lucy
Alexandra Jenna Kristin Heidi Molly Meredith Whitney April Robin Joy Sheila Carrie Tina Stacy Tara
Gina Jodi Allison Kelsey Miranda Bethany Casey Rhonda Wanda Marsha Vera Agnes Josephine Louise
""".split()  # noqa: SIM905

SURNAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark
Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams
Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker
Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper
Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James
Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster
Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher
Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno
West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall
Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb
Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason
Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren
Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne
Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight
Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry
Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval
Guerrero George Chapman Rios Estrada Ortega Watkins Greene Nunez Wheeler Valdez Harper Burke Larson
Santiago Maldonado Morrison Franklin Carlson Austin Dominguez Carr Lawson Jacobs O'Brien O'Connor
McCarthy Schwartz Kowalski Nowak Lynch Bishop Wu Zhang Wang Li Huang Singh Shah Cohen Levy Friedman
Novak Schultz Becker Koch Weber Fleming Hoover Barker Sutton Gregory Walsh Fitzgerald Brennan Doyle
Quinn Byrne Gallagher Keller Schneider Bauer Richter Lindgren Nielsen Jensen Larsen Sorensen Petrov
Ivanov Romano Russo Esposito Bianchi Ricci Marino Greco Nakamura Tanaka Yamamoto Park Choi Kang Cho
Yoon Pham Le Hoang Vu Dang Bui Do Ngo Duong Ly
""".split()  # noqa: SIM905

# Given names written the short way on many forms. Independently compiled for this generator.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rick", "Dick", "Rich"),
    "James": ("Jim", "Jimmy"),
    "John": ("Jack", "Johnny"),
    "Michael": ("Mike",),
    "Thomas": ("Tom", "Tommy"),
    "Charles": ("Charlie", "Chuck"),
    "Joseph": ("Joe",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Christopher": ("Chris",),
    "David": ("Dave",),
    "Steven": ("Steve",),
    "Stephen": ("Steve",),
    "Edward": ("Ed", "Ted"),
    "Kenneth": ("Ken",),
    "Timothy": ("Tim",),
    "Ronald": ("Ron",),
    "Donald": ("Don",),
    "Andrew": ("Andy", "Drew"),
    "Joshua": ("Josh",),
    "Benjamin": ("Ben",),
    "Samuel": ("Sam",),
    "Alexander": ("Alex",),
    "Nicholas": ("Nick",),
    "Gregory": ("Greg",),
    "Jeffrey": ("Jeff",),
    "Lawrence": ("Larry",),
    "Gerald": ("Jerry",),
    "Raymond": ("Ray",),
    "Patrick": ("Pat",),
    "Peter": ("Pete",),
    "Douglas": ("Doug",),
    "Henry": ("Hank",),
    "Walter": ("Walt",),
    "Zachary": ("Zach",),
    "Jonathan": ("Jon",),
    "Nathan": ("Nate",),
    "Theodore": ("Ted", "Teddy"),
    "Francis": ("Frank",),
    "Frederick": ("Fred",),
    "Philip": ("Phil",),
    "Eugene": ("Gene",),
    "Harold": ("Hal",),
    "Elizabeth": ("Liz", "Beth", "Betty"),
    "Margaret": ("Peggy", "Maggie"),
    "Patricia": ("Patty", "Trish"),
    "Jennifer": ("Jen", "Jenny"),
    "Katherine": ("Kate", "Kathy"),
    "Catherine": ("Cathy", "Kate"),
    "Kathleen": ("Kathy",),
    "Susan": ("Sue",),
    "Deborah": ("Debbie", "Deb"),
    "Debra": ("Deb",),
    "Rebecca": ("Becky",),
    "Jessica": ("Jess",),
    "Samantha": ("Sam",),
    "Christine": ("Chris",),
    "Christina": ("Tina",),
    "Kimberly": ("Kim",),
    "Pamela": ("Pam",),
    "Barbara": ("Barb",),
    "Dorothy": ("Dot", "Dottie"),
    "Victoria": ("Vicky",),
    "Alexandra": ("Alex",),
    "Abigail": ("Abby",),
    "Judith": ("Judy",),
    "Cynthia": ("Cindy",),
    "Melissa": ("Missy",),
    "Stephanie": ("Steph",),
    "Jacqueline": ("Jackie",),
    "Theresa": ("Terri",),
    "Virginia": ("Ginny",),
    "Frances": ("Fran",),
    "Amanda": ("Mandy",),
    "Valerie": ("Val",),
    "Sandra": ("Sandy",),
    "Eleanor": ("Ellie",),
}

COMMON_FULL_NAMES = (
    ("James", "Smith", "M"),
    ("Michael", "Smith", "M"),
    ("Robert", "Johnson", "M"),
    ("David", "Williams", "M"),
    ("John", "Brown", "M"),
    ("Maria", "Garcia", "F"),
    ("Maria", "Rodriguez", "F"),
    ("Mary", "Smith", "F"),
    ("Jennifer", "Johnson", "F"),
    ("Linda", "Jones", "F"),
)

STREET_NAMES = """
Main|Oak|Maple|Cedar|Pine|Elm|Washington|Lake|Hill|Park|Walnut|Sunset|Lincoln|Jackson|Franklin|
Highland|Spring|Church|Willow|Center|Chestnut|River|Meadow|Forest|Ridge|Jefferson|Madison|Adams|
Monroe|Cherry|Dogwood|Hickory|Birch|Magnolia|Sycamore|Poplar|Aspen|Laurel|Juniper|Mill|
Mountain View|Valley|Lakeview|Prospect|Broad|Market|Union|Liberty|Spruce|Locust|Holly|Rose|
Orchard|Fairview|Woodland|Green|College|School|Railroad|Bridge|Grove|Cypress|Pecan|Lakeshore|
Country Club|Kings|Wilson|Taylor|Grant|Harrison|Hamilton|Clay|Bayview|Ocean|Harbor|Canyon|Mesa|
Vista|Sierra|Summit|Heritage|Colonial|Windsor|Cambridge|Oxford|Sherwood|Brookside|Creekside|
Fox Run|Deer Path|Quail Hollow|Timberline|Old Mill|Stonebridge|Greenbriar|Peachtree|Cottonwood|
Ironwood|Silver Lake|Pleasant|Evergreen|Jasmine|Bluebonnet|Rolling Hills|Shady Oak|Red Bud
""".replace("\n", "").split("|")

STREET_SUFFIXES = (
    ("St", "Street", 30),
    ("Ave", "Avenue", 20),
    ("Dr", "Drive", 15),
    ("Rd", "Road", 12),
    ("Ln", "Lane", 8),
    ("Ct", "Court", 5),
    ("Way", "Way", 4),
    ("Blvd", "Boulevard", 3),
    ("Pl", "Place", 3),
)

# city, state, first zip code, area code, weight
CITIES = (
    ("New York", "NY", 10001, 212, 20),
    ("Brooklyn", "NY", 11201, 718, 10),
    ("Buffalo", "NY", 14201, 716, 3),
    ("Los Angeles", "CA", 90001, 213, 16),
    ("San Diego", "CA", 92101, 619, 6),
    ("San Jose", "CA", 95110, 408, 4),
    ("Fresno", "CA", 93701, 559, 3),
    ("Sacramento", "CA", 95814, 916, 3),
    ("Chicago", "IL", 60601, 312, 12),
    ("Springfield", "IL", 62701, 217, 2),
    ("Houston", "TX", 77001, 713, 10),
    ("Dallas", "TX", 75201, 214, 6),
    ("San Antonio", "TX", 78201, 210, 6),
    ("Austin", "TX", 78701, 512, 4),
    ("El Paso", "TX", 79901, 915, 3),
    ("Phoenix", "AZ", 85001, 602, 7),
    ("Tucson", "AZ", 85701, 520, 3),
    ("Philadelphia", "PA", 19102, 215, 7),
    ("Pittsburgh", "PA", 15201, 412, 3),
    ("Jacksonville", "FL", 32201, 904, 4),
    ("Miami", "FL", 33101, 305, 5),
    ("Tampa", "FL", 33601, 813, 3),
    ("Orlando", "FL", 32801, 407, 3),
    ("Columbus", "OH", 43201, 614, 4),
    ("Cleveland", "OH", 44101, 216, 3),
    ("Indianapolis", "IN", 46201, 317, 4),
    ("Charlotte", "NC", 28201, 704, 4),
    ("Raleigh", "NC", 27601, 919, 3),
    ("Seattle", "WA", 98101, 206, 4),
    ("Spokane", "WA", 99201, 509, 2),
    ("Denver", "CO", 80201, 303, 4),
    ("Boston", "MA", 2108, 617, 4),
    ("Detroit", "MI", 48201, 313, 4),
    ("Grand Rapids", "MI", 49501, 616, 2),
    ("Nashville", "TN", 37201, 615, 3),
    ("Memphis", "TN", 38103, 901, 3),
    ("Portland", "OR", 97201, 503, 3),
    ("Las Vegas", "NV", 89101, 702, 3),
    ("Louisville", "KY", 40202, 502, 2),
    ("Baltimore", "MD", 21201, 410, 3),
    ("Milwaukee", "WI", 53202, 414, 2),
    ("Albuquerque", "NM", 87101, 505, 2),
    ("Atlanta", "GA", 30303, 404, 4),
    ("Kansas City", "MO", 64105, 816, 2),
    ("St. Louis", "MO", 63101, 314, 2),
    ("Omaha", "NE", 68102, 402, 2),
    ("Minneapolis", "MN", 55401, 612, 3),
    ("Tulsa", "OK", 74103, 918, 2),
    ("Wichita", "KS", 67202, 316, 2),
    ("New Orleans", "LA", 70112, 504, 2),
    ("Springfield", "MO", 65801, 417, 1),
    ("Portland", "ME", 4101, 207, 1),
    ("Salt Lake City", "UT", 84101, 801, 2),
    ("Richmond", "VA", 23219, 804, 2),
    ("Birmingham", "AL", 35203, 205, 2),
    ("Des Moines", "IA", 50309, 515, 1),
    ("Boise", "ID", 83702, 208, 1),
    ("Columbia", "SC", 29201, 803, 1),
    ("Hartford", "CT", 6103, 860, 1),
    ("Newark", "NJ", 7102, 973, 2),
)

# Keys a typist hits instead (QWERTY neighbours) and shapes a scanner misreads.
_KEYBOARD = {
    "q": "wa", "w": "qeas", "e": "wrsd", "r": "etdf", "t": "ryfg", "y": "tugh", "u": "yihj",
    "i": "uojk", "o": "ipkl", "p": "ol", "a": "qwsz", "s": "awedxz", "d": "serfcx", "f": "drtgvc",
    "g": "ftyhbv", "h": "gyujnb", "j": "huikmn", "k": "jiolm", "l": "kop", "z": "asx",
    "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
}  # fmt: skip
_OCR = (
    ("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("w", "vv"), ("vv", "w"), ("l", "i"),
    ("i", "l"), ("e", "c"), ("c", "e"), ("h", "b"), ("u", "v"), ("n", "h"), ("o", "a"),
    ("a", "o"), ("li", "h"), ("f", "t"), ("t", "f"),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Population
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Person:
    person_id: str
    household_id: str
    first: str
    middle: str  # "" when none
    last: str
    sex: str  # "M" or "F"
    dob: date
    ssn: str
    mobile: str  # "" when none
    relation: str  # head, spouse, child, parent, roommate
    maiden: str = ""  # a married woman's birth surname, when she took her husband's
    spouse_id: str = ""
    tags: set[str] = field(default_factory=set)  # what makes this person a trap: twin, junior...

    @property
    def age(self) -> int:
        return _age(self.dob)


@dataclass
class Address:
    street_number: str
    street_name: str
    suffix_full: str  # the street suffix written out, for sources that spell it
    unit: str
    city: str
    state: str
    zipcode: str
    area_code: int


@dataclass
class Household:
    household_id: str
    members: list[Person]
    address: Address
    home_phone: str


def _age(dob: date, on: date = REFERENCE_DATE) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _zipf(n: int, offset: float, power: float = 1.0) -> list[float]:
    return [1.0 / (i + offset) ** power for i in range(n)]


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.weights = {
            "M": _zipf(len(MALE_NAMES), 12.0),
            "F": _zipf(len(FEMALE_NAMES), 12.0),
        }
        self.pools = {"M": MALE_NAMES, "F": FEMALE_NAMES}
        self.surname_weights = _zipf(len(SURNAMES), 30.0)

    def given(self, sex: str, avoid: Collection[str] = ()) -> str:
        for _ in range(50):
            name = self.rng.choices(self.pools[sex], self.weights[sex])[0]
            if name not in avoid:
                return name
        return self.rng.choice([n for n in self.pools[sex] if n not in avoid])

    def middle(self, sex: str, first: str) -> str:
        roll = self.rng.random()
        if roll < 0.12:
            return ""
        if roll < 0.16:
            return self.surname()  # a family surname as middle name
        return self.given(sex, {first})

    def surname(self) -> str:
        return self.rng.choices(SURNAMES, self.surname_weights)[0]


class _Population:
    def __init__(self, persons: int, seed: int) -> None:
        self.rng = random.Random(f"population-{seed}")
        self.names = _Names(self.rng)
        self.target = persons
        self.households: list[Household] = []
        self.people: list[Person] = []
        self._ssns: set[str] = set()
        self._phones: set[str] = set()
        self._buildings: list[Address] = []
        city_weights = [c[4] for c in CITIES]
        self._city = lambda: self.rng.choices(CITIES, city_weights)[0]

    # identifiers ---------------------------------------------------------------------------
    def ssn(self) -> str:
        while True:
            area = self.rng.randint(1, 899)
            if area == 666:
                continue
            value = f"{area:03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"
            if value not in self._ssns:
                self._ssns.add(value)
                return value

    def phone(self, area_code: int) -> str:
        while True:
            value = f"({area_code}) {self.rng.randint(201, 989)}-{self.rng.randint(0, 9999):04d}"
            if value not in self._phones:
                self._phones.add(value)
                return value

    def dob(self, age_low: int, age_high: int) -> date:
        days = self.rng.randint(age_low * 365 + 1, age_high * 365 + 364)
        return REFERENCE_DATE - timedelta(days=days)

    def address(self, city: tuple | None = None) -> Address:
        rng = self.rng
        city = city or self._city()
        # Apartment buildings: several households share the street address, with their own units.
        if self._buildings and rng.random() < 0.08:
            building = rng.choice(self._buildings)
            return Address(**{**building.__dict__, "unit": self._unit()})
        if rng.random() < 0.12:
            ordinal = rng.randint(1, 60)
            suffix = (
                "th"
                if 10 <= ordinal % 100 <= 20
                else {1: "st", 2: "nd", 3: "rd"}.get(ordinal % 10, "th")
            )
            base = f"{ordinal}{suffix}"
        else:
            base = rng.choice(STREET_NAMES)
        short, full, _ = rng.choices(STREET_SUFFIXES, [s[2] for s in STREET_SUFFIXES])[0]
        number = str(int(10 ** rng.uniform(0.5, 4.2)))
        apartment = rng.random() < 0.22
        address = Address(
            street_number=number,
            street_name=f"{base} {short}",
            suffix_full=f"{base} {full}",
            unit=self._unit() if apartment else "",
            city=city[0],
            state=city[1],
            zipcode=f"{city[2] + rng.randint(0, 40):05d}",
            area_code=city[3],
        )
        if apartment:
            self._buildings.append(address)
        return address

    def _unit(self) -> str:
        rng = self.rng
        number = rng.randint(1, 30)
        style = rng.random()
        if style < 0.5:
            return f"Apt {number}"
        if style < 0.75:
            return f"Apt {number}{rng.choice('ABCD')}"
        if style < 0.9:
            return f"Unit {number}"
        return f"# {number}"

    # people --------------------------------------------------------------------------------
    def person(
        self,
        hid: str,
        sex: str,
        dob: date,
        last: str,
        relation: str,
        area_code: int,
        first: str | None = None,
        avoid: Collection[str] = (),
    ) -> Person:
        first = first or self.names.given(sex, avoid)
        adult = _age(dob) >= 16
        person = Person(
            person_id=f"p{len(self.people):06d}",
            household_id=hid,
            first=first,
            middle=self.names.middle(sex, first),
            last=last,
            sex=sex,
            dob=dob,
            ssn=self.ssn(),
            mobile=self.phone(area_code) if adult and self.rng.random() < 0.75 else "",
            relation=relation,
        )
        self.people.append(person)
        return person

    def household(self) -> Household:
        rng = self.rng
        hid = f"h{len(self.households):05d}"
        address = self.address()
        area = address.area_code
        size = rng.choices((1, 2, 3, 4, 5, 6), (28, 34, 15, 13, 6, 4))[0]
        members: list[Person] = []
        kind = "single"
        if size == 2:
            kind = rng.choices(("couple", "parent", "roommates"), (65, 20, 15))[0]
        elif size >= 3:
            kind = rng.choices(("family", "parent", "multigen"), (75, 15, 10))[0]

        if kind in ("single", "roommates"):
            for _ in range(size):
                sex = rng.choice("MF")
                first, last = None, self.names.surname()
                if rng.random() < 0.04:
                    first, last, sex = rng.choice(COMMON_FULL_NAMES)
                members.append(
                    self.person(hid, sex, self.dob(18, 90), last, "roommate", area, first)
                )
            members[0].relation = "head"
        else:
            parents_young = kind != "couple" or rng.random() < 0.3
            head_sex = rng.choice("MF")
            head_first, surname = None, self.names.surname()
            if rng.random() < 0.04:
                head_first, surname, head_sex = rng.choice(COMMON_FULL_NAMES)
            head_age = (24, 55) if parents_young else (20, 88)
            head = self.person(
                hid, head_sex, self.dob(*head_age), surname, "head", area, head_first
            )
            members.append(head)
            parents = [head]
            if kind in ("couple", "family", "multigen"):
                spouse_sex = "F" if head_sex == "M" else "M"
                if rng.random() < 0.03:
                    spouse_sex = head_sex
                spouse_age = min(max(head.age + rng.randint(-8, 6), 20), 95)
                if parents_young:
                    spouse_age = min(max(spouse_age, 22), 55)
                married = rng.random() < 0.8
                spouse = self.person(
                    hid,
                    spouse_sex,
                    self.dob(spouse_age, spouse_age),
                    self.names.surname(),
                    "spouse",
                    area,
                    avoid={head.first},
                )
                if married:
                    spouse.spouse_id, head.spouse_id = head.person_id, spouse.person_id
                    if spouse_sex != head_sex and rng.random() < 0.8:
                        wife, husband = (spouse, head) if spouse_sex == "F" else (head, spouse)
                        wife.maiden, wife.last = wife.last, husband.last
                members.append(spouse)
                parents.append(spouse)
            youngest_parent = max(p.dob for p in parents)
            children = size - len(members) - (1 if kind == "multigen" else 0)
            used = {m.first for m in members}
            father = next((p for p in parents if p.sex == "M"), None)
            if father is not None and (father.spouse_id or rng.random() < 0.7):
                surname = father.last
            twins = junior = False
            for i in range(children):
                sex = rng.choice("MF")
                if i > 0 and not twins and rng.random() < 0.04:
                    twins = True
                    dob = members[-1].dob
                    members[-1].tags.add("twin")
                else:
                    dob = self._child_dob(youngest_parent)
                if sex == "M" and father and not junior and rng.random() < 0.08:
                    junior = True
                    child = self.person(hid, sex, dob, surname, "child", area, father.first)
                    if rng.random() < 0.5:
                        child.middle = father.middle
                    child.tags.add("junior")
                else:
                    child = self.person(hid, sex, dob, surname, "child", area, avoid=used)
                if twins and dob == members[-1].dob and "twin" in members[-1].tags:
                    child.tags.add("twin")
                used.add(child.first)
                members.append(child)
            if kind == "multigen":
                elder_age = min(head.age + rng.randint(20, 40), 100)
                elder_sex = rng.choice("MF")
                last = surname if elder_sex == "M" or rng.random() < 0.7 else self.names.surname()
                elder = self.person(
                    hid, elder_sex, self.dob(elder_age, elder_age), last, "parent", area, avoid=used
                )
                members.append(elder)
        phone = self.phone(area) if rng.random() < 0.6 else ""
        household = Household(hid, members, address, phone)
        self.households.append(household)
        return household

    def _child_dob(self, youngest_parent: date) -> date:
        earliest = youngest_parent + timedelta(days=int(20 * 365.25))
        latest = min(youngest_parent + timedelta(days=int(40 * 365.25)), REFERENCE_DATE)
        if latest <= earliest:
            return latest - timedelta(days=self.rng.randint(0, 300))
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def build(self) -> _Population:
        while len(self.people) < self.target:
            self.household()
        return self


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseRates:
    """Per-cell probabilities of each kind of error (each source draws its own)."""

    typo: float = 0.01  # keyboard neighbour, OCR confusion, inserted / dropped / swapped letter
    nickname: float = 0.01  # a nickname instead of the given name
    missing: float = 0.01  # an empty cell
    dob_swap: float = 0.01  # day and month swapped (when the result is a date)
    dob_digit: float = 0.01  # one digit of the date of birth wrong
    dob_year_only: float = 0.01  # only the year right
    digit: float = 0.01  # one digit wrong in an SSN, zip code, street number or phone
    household_copy: float = 0.01  # first name or date of birth of another household member
    name_swap: float = 0.005  # first and last name swapped
    maiden_name: float = 0.3  # married women shown under their birth surname in the 2nd source
    suffix_spelled: float = 0.1  # tax: street suffix written out ("Avenue" for "Ave")


DEFAULT_NOISE = NoiseRates()

CENSUS_COVERAGE = 0.96
CENSUS_PHONE_RATE = 0.35
SSA_COVERAGE = 0.92
FILING_RATE = 0.7
DEPENDENT_LISTED = 0.9
MOVED_RATE = 0.1


def _address_fields(address: Address, spelled: bool = False) -> dict[str, str]:
    return {
        "street_number": address.street_number,
        "street_name": address.suffix_full if spelled else address.street_name,
        "unit": address.unit,
        "city": address.city,
        "state": address.state,
        "zipcode": address.zipcode,
    }


def _census(population: _Population, rng: random.Random) -> list[dict]:
    rows = []
    for household in population.households:
        # The respondent's phone, when given, is on every member's row.
        respondent = household.members[0]
        phone = household.home_phone or respondent.mobile
        if rng.random() > CENSUS_PHONE_RATE:
            phone = ""
        for person in household.members:
            if rng.random() > CENSUS_COVERAGE:
                continue
            rows.append(
                {
                    "person": person,
                    "first_name": person.first,
                    "middle_initial": person.middle[:1],
                    "last_name": person.last,
                    "dob": person.dob.isoformat(),
                    "sex": person.sex,
                    "phone": phone,
                    **_address_fields(household.address),
                }
            )
    return rows


def _tax(population: _Population, rng: random.Random, noise: NoiseRates) -> list[tuple[dict, bool]]:
    """Filing units: a married couple files jointly with the children; other adults alone."""
    rows: list[tuple[dict, bool]] = []  # (row, moved)
    for household in population.households:
        members = household.members
        by_id = {p.person_id: p for p in members}
        done: set[str] = set()
        units: list[tuple[list[Person], list[Person]]] = []
        children = [p for p in members if p.relation == "child"]
        dependants = [c for c in children if c.age < 18 or (c.age < 24 and rng.random() < 0.5)]
        for person in members:
            if person.person_id in done or person.age < 18 or person in dependants:
                continue
            filers = [person]
            if person.spouse_id and person.spouse_id in by_id:
                filers.append(by_id[person.spouse_id])
            deps: list[Person] = []
            if person.relation in ("head", "spouse"):
                deps = [d for d in dependants if d.person_id not in done]
            done.update(p.person_id for p in filers + deps)
            units.append((filers, deps))
        for filers, deps in units:
            if rng.random() > FILING_RATE:
                continue
            moved = rng.random() < MOVED_RATE
            address = household.address
            if moved:
                city = next(c for c in CITIES if c[0] == address.city and c[1] == address.state)
                address = population.address(city if rng.random() < 0.5 else None)
            spelled = rng.random() < noise.suffix_spelled
            phone_owner = filers[0]
            phone = ""
            if rng.random() < 0.5:
                phone = phone_owner.mobile or household.home_phone
            for person in filers + [d for d in deps if rng.random() < DEPENDENT_LISTED]:
                last = person.last
                if person.maiden and rng.random() < noise.maiden_name:
                    last = person.maiden
                    person.tags.add("maiden_name")
                rows.append(
                    (
                        {
                            "person": person,
                            "first_name": person.first,
                            "middle_initial": person.middle[:1],
                            "last_name": last,
                            "ssn": person.ssn,
                            "phone": phone if person in filers else "",
                            **_address_fields(address, spelled),
                        },
                        moved,
                    )
                )
    return rows


def _ssa(population: _Population, rng: random.Random, noise: NoiseRates) -> list[dict]:
    rows = []
    for person in population.people:
        if rng.random() > SSA_COVERAGE:
            continue
        last = person.last
        if person.maiden and rng.random() < noise.maiden_name:
            last = person.maiden
            person.tags.add("maiden_name")
        rows.append(
            {
                "person": person,
                "first_name": person.first,
                "middle_name": person.middle,
                "middle_initial": person.middle[:1],
                "last_name": last,
                "dob": person.dob.isoformat(),
                "ssn": person.ssn,
                "sex": person.sex,
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------------------------


def _with_case(original: str, replacement: str) -> str:
    return replacement.upper() if original.isupper() else replacement


def typo(value: str, rng: random.Random) -> str:
    """One keyboard, OCR, insertion, deletion or transposition error in a word."""
    if len(value) < 2:
        return value
    letters = [i for i, ch in enumerate(value) if ch.isalpha()]
    if not letters:
        return value
    kind = rng.choices(("key", "ocr", "insert", "delete", "swap"), (40, 20, 15, 15, 10))[0]
    i = rng.choice(letters)
    ch = value[i]
    if kind == "ocr":
        low = value.lower()
        options = [(src, dst, j) for src, dst in _OCR for j in _find_all(low, src)]
        if options:
            src, dst, j = rng.choice(options)
            return value[:j] + _with_case(value[j], dst) + value[j + len(src) :]
        kind = "key"
    if kind == "key":
        near = _KEYBOARD.get(ch.lower(), "")
        return value[:i] + _with_case(ch, rng.choice(near)) + value[i + 1 :] if near else value
    if kind == "insert":
        extra = rng.choice([ch.lower(), *_KEYBOARD.get(ch.lower(), "e")])
        return value[: i + 1] + extra + value[i + 1 :]
    if kind == "delete":
        return value[:i] + value[i + 1 :]
    if i + 1 < len(value) and value[i + 1].isalpha() and value[i + 1] != ch:
        return value[:i] + value[i + 1] + value[i].lower() + value[i + 2 :]
    return value[:i] + value[i + 1 :]


def _find_all(text: str, part: str) -> list[int]:
    found, start = [], text.find(part)
    while start >= 0:
        found.append(start)
        start = text.find(part, start + 1)
    return found


def wrong_digit(value: str, rng: random.Random) -> str:
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    if not digits:
        return value
    i = rng.choice(digits)
    new = rng.choice([d for d in "0123456789" if d != value[i]])
    return value[:i] + new + value[i + 1 :]


def _valid_date(text: str) -> bool:
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return False
    return date(1900, 1, 1) <= parsed <= REFERENCE_DATE


def dob_swap(value: str, rng: random.Random) -> str:
    year, month, day = value.split("-")
    swapped = f"{year}-{day}-{month}"
    return swapped if day != month and _valid_date(swapped) else value


def dob_digit(value: str, rng: random.Random) -> str:
    for _ in range(20):
        candidate = wrong_digit(value, rng)
        if _valid_date(candidate):
            return candidate
    return value


def dob_year_only(value: str, rng: random.Random) -> str:
    year = int(value[:4])
    for _ in range(20):
        month = rng.randint(1, 12)
        day = rng.randint(1, calendar.monthrange(year, month)[1])
        candidate = f"{year:04d}-{month:02d}-{day:02d}"
        if candidate != value and _valid_date(candidate):
            return candidate
    return value


def _nickname(value: str, rng: random.Random) -> str:
    options = NICKNAMES.get(value)
    return rng.choice(options) if options else value


_META = {"person", "noise", "moved"}
_NAME_FIELDS = ("first_name", "middle_name", "last_name")
_TEXT_FIELDS = ("street_name", "city")
_DIGIT_FIELDS = ("ssn", "zipcode", "street_number", "phone")


def apply_noise(
    rows: list[dict], households: dict[str, Household], rng: random.Random, noise: NoiseRates
) -> None:
    """Corrupt the rows of one source in place; each row's ``noise`` lists what was done."""

    def hit(rate: float) -> bool:
        return rng.random() < rate

    for row in rows:
        person: Person = row["person"]
        done: list[str] = []
        others = [m for m in households[person.household_id].members if m is not person]

        def change(
            column: str,
            fn: Callable[[str, random.Random], str],
            tag: str,
            row: dict = row,
            done: list[str] = done,
        ) -> None:
            before = row[column]
            after = fn(before, rng)
            if after != before:
                row[column] = after
                done.append(f"{tag}:{column}")

        if others and "first_name" in row and hit(noise.household_copy):
            row["first_name"] = rng.choice(others).first
            done.append("household_copy:first_name")
        if others and "dob" in row and hit(noise.household_copy):
            row["dob"] = rng.choice(others).dob.isoformat()
            done.append("household_copy:dob")
        if "first_name" in row and hit(noise.nickname):
            change("first_name", _nickname, "nickname")
        if "dob" in row:
            for rate, fn, tag in (
                (noise.dob_swap, dob_swap, "dob_swap"),
                (noise.dob_digit, dob_digit, "dob_digit"),
                (noise.dob_year_only, dob_year_only, "dob_year_only"),
            ):
                if hit(rate):
                    change("dob", fn, tag)
        for column in _DIGIT_FIELDS:
            if row.get(column) and hit(noise.digit):
                change(column, wrong_digit, "digit")
        for column in (*_NAME_FIELDS, *_TEXT_FIELDS):
            if row.get(column) and hit(noise.typo):
                change(column, typo, "typo")
        if hit(noise.name_swap):
            row["first_name"], row["last_name"] = row["last_name"], row["first_name"]
            done.append("name_swap")
        for column in list(row):
            if column in _META or not row[column]:
                continue
            if hit(noise.missing):
                row[column] = ""
                done.append(f"missing:{column}")
        if "middle_name" in row and "middle_initial" in row:
            row["middle_initial"] = row["middle_name"][:1]
        row["noise"] = done


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------

_COLUMNS = {
    "census_tax": (
        "record_id", "source", "first_name", "middle_initial", "last_name", "dob", "sex", "ssn",
        "phone", "street_number", "street_name", "unit", "city", "state", "zipcode", TRUTH_COLUMN,
    ),
    "census_ssa": (
        "record_id", "source", "first_name", "middle_name", "middle_initial", "last_name", "dob",
        "sex", "ssn", "phone", "street_number", "street_name", "unit", "city", "state", "zipcode",
        TRUTH_COLUMN,
    ),
}  # fmt: skip

_ROLES = {
    "first_name": "first_name",
    "middle_name": "middle_initial",
    "last_name": "last_name",
    "dob": "dob",
    "gender": "sex",
    "national_id": "ssn",
    "phone": "phone",
    "street_number": "street_number",
    "street": "street_name",
    "city": "city",
    "state": "state",
    "postcode": "zipcode",
}

# Columns kept by ``register_frame`` for diagnosis, never written to the file.
DIAGNOSTIC_COLUMNS = ("household_id", "relation", "tags", "moved", "noise")


# Roles whose column both sources of a shape fill (the others are empty on one side).
_SHARED_ROLES = {
    "census_tax": (
        "first_name", "middle_name", "last_name", "phone", "street_number", "street", "city",
        "state", "postcode",
    ),
    "census_ssa": ("first_name", "middle_name", "last_name", "dob", "gender"),
}  # fmt: skip


def role_map(shape: str, shared_only: bool = False) -> dict[str, str]:
    """The ``--map`` roles for a shape's file: every role the file can fill, or with
    ``shared_only`` only those both of its sources fill."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; shapes: {', '.join(SHAPES)}")
    if shared_only:
        return {role: _ROLES[role] for role in _SHARED_ROLES[shape]}
    return dict(_ROLES)


def register_frame(
    shape: str, persons: int = 4000, seed: int = 0, noise: NoiseRates = DEFAULT_NOISE
) -> pd.DataFrame:
    """The shape's rows with the file's columns plus ``DIAGNOSTIC_COLUMNS``."""
    role_map(shape)
    population = _Population(persons, seed).build()
    households = {h.household_id: h for h in population.households}
    second = shape.split("_")[1]
    census_rng = random.Random(f"census-{seed}")
    second_rng = random.Random(f"{second}-{seed}")
    census = _census(population, census_rng)
    if second == "tax":
        pairs = _tax(population, second_rng, noise)
        other = [row for row, _ in pairs]
        for row, moved in pairs:
            row["moved"] = moved
    else:
        other = _ssa(population, second_rng, noise)
    apply_noise(census, households, random.Random(f"census-noise-{seed}"), noise)
    apply_noise(other, households, random.Random(f"{second}-noise-{seed}"), noise)
    for source, rows in (("census", census), (second, other)):
        for row in rows:
            row["source"] = source
    rows = census + other
    random.Random(f"order-{seed}").shuffle(rows)
    records = []
    for i, row in enumerate(rows):
        person: Person = row.pop("person")
        records.append(
            {
                **row,
                "record_id": f"r{i:06d}",
                TRUTH_COLUMN: person.person_id,
                "household_id": person.household_id,
                "relation": person.relation,
                "tags": ",".join(sorted(person.tags)),
                "moved": bool(row.get("moved", False)),
                "noise": ",".join(row["noise"]),
            }
        )
    frame = pd.DataFrame.from_records(records)
    columns = [*_COLUMNS[shape], *DIAGNOSTIC_COLUMNS]
    for column in columns:
        if column not in frame:
            frame[column] = ""
    return frame[columns].fillna("")


def write_register_file(
    path: Path, shape: str, persons: int = 4000, seed: int = 0
) -> dict[str, str]:
    """Write one shape as a CSV at ``path``; return the resolver's role map for it."""
    frame = register_frame(shape, persons, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame[list(_COLUMNS[shape])].to_csv(path, index=False)
    return role_map(shape)
