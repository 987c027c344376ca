"""WVS Wave 7 facts the kit needs: countries, demographic label sets and the value questions.

Labels aim at the exact strings of the authors' released DVMap files (questionnaire wording for
options and most attributes, the codebook's detailed lists for religion and language, ISO 3166
country names, "Not Answered" for a missing attribute), whatever labels a given .sav/.dta carries.
Sources: the WVS Wave 7 codebook (v6.0, with its annex of detailed religion and language codes, kept
in ``data/wvs_detailed_codes.yaml``) and the strings of the authors' released DVMap files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import yaml

NOT_ANSWERED = "Not Answered"

# --------------------------------------------------------------------------------------------
# Countries. WVS-7 codes the UK as two units: Great Britain (826/GBR) and Northern Ireland
# (909/NIR, not an ISO code). The kit forms "GBR" = GBR + NIR by default (see UNIT_MERGES), the
# way other WVS pipelines form the UK; `dvmap build --uk gbr-only` keeps Great Britain alone.
# --------------------------------------------------------------------------------------------

#: ISO3 -> (ISO numeric code, ISO 3166 English short name). The 66 countries of the v6.0 file + NIR.
COUNTRIES: dict[str, tuple[int, str]] = {
    "AND": (20, "Andorra"),
    "ARG": (32, "Argentina"),
    "ARM": (51, "Armenia"),
    "AUS": (36, "Australia"),
    "BGD": (50, "Bangladesh"),
    "BOL": (68, "Bolivia (Plurinational State of)"),
    "BRA": (76, "Brazil"),
    "CAN": (124, "Canada"),
    "CHL": (152, "Chile"),
    "CHN": (156, "China"),
    "COL": (170, "Colombia"),
    "CYP": (196, "Cyprus"),
    "CZE": (203, "Czechia"),
    "DEU": (276, "Germany"),
    "ECU": (218, "Ecuador"),
    "EGY": (818, "Egypt"),
    "ETH": (231, "Ethiopia"),
    "GBR": (826, "United Kingdom of Great Britain and Northern Ireland"),
    "GRC": (300, "Greece"),
    "GTM": (320, "Guatemala"),
    "HKG": (344, "Hong Kong"),
    "IDN": (360, "Indonesia"),
    "IND": (356, "India"),
    "IRN": (364, "Iran (Islamic Republic of)"),
    "IRQ": (368, "Iraq"),
    "JOR": (400, "Jordan"),
    "JPN": (392, "Japan"),
    "KAZ": (398, "Kazakhstan"),
    "KEN": (404, "Kenya"),
    "KGZ": (417, "Kyrgyzstan"),
    "KOR": (410, "Korea, Republic of"),
    "LBN": (422, "Lebanon"),
    "LBY": (434, "Libya"),
    "MAC": (446, "Macao"),
    "MAR": (504, "Morocco"),
    "MDV": (462, "Maldives"),
    "MEX": (484, "Mexico"),
    "MMR": (104, "Myanmar"),
    "MNG": (496, "Mongolia"),
    "MYS": (458, "Malaysia"),
    "NGA": (566, "Nigeria"),
    "NIC": (558, "Nicaragua"),
    "NIR": (909, "Northern Ireland"),
    "NLD": (528, "Netherlands"),
    "NZL": (554, "New Zealand"),
    "PAK": (586, "Pakistan"),
    "PER": (604, "Peru"),
    "PHL": (608, "Philippines"),
    "PRI": (630, "Puerto Rico"),
    "ROU": (642, "Romania"),
    "RUS": (643, "Russian Federation"),
    "SGP": (702, "Singapore"),
    "SRB": (688, "Serbia"),
    "SVK": (703, "Slovakia"),
    "THA": (764, "Thailand"),
    "TJK": (762, "Tajikistan"),
    "TUN": (788, "Tunisia"),
    "TUR": (792, "Türkiye"),
    "TWN": (158, "Taiwan"),
    "UKR": (804, "Ukraine"),
    "URY": (858, "Uruguay"),
    "USA": (840, "United States of America"),
    "UZB": (860, "Uzbekistan"),
    "VEN": (862, "Venezuela (Bolivarian Republic of)"),
    "VNM": (704, "Viet Nam"),
    "ZWE": (716, "Zimbabwe"),
}
ALPHA_ALIASES = {"MOR": "MAR"}  # the v6 codebook's alpha list spells Morocco MOR; the data use MAR
NUMERIC_TO_ALPHA = {numeric: alpha for alpha, (numeric, _) in COUNTRIES.items()}
UNIT_MERGES = {"NIR": "GBR"}

#: Paper, Sec. 4.1 and App. D.
TRAINING_COUNTRIES = ("USA", "CAN", "GBR", "DEU", "BRA", "CHN", "RUS", "IND", "JPN", "EGY")
CROSS_COUNTRIES = ("NGA", "IRN", "PAK", "IDN", "VNM", "AUS", "MEX", "TUR")


def country_name(alpha: str) -> str:
    """ISO 3166 short name of a WVS country unit (the string the release uses)."""
    return COUNTRIES[alpha][1]


# --------------------------------------------------------------------------------------------
# Demographic attributes (paper, App. A). Columns are snake_case forms of the release's columns.
# --------------------------------------------------------------------------------------------


@cache
def detailed_codes() -> dict[str, dict[int, str]]:
    """Q272 (language) and Q289CS9 (religion) label lists, shipped as package data."""
    text = resources.files("dvmap_hf").joinpath("data/wvs_detailed_codes.yaml").read_text(encoding="utf-8")
    return {var: {int(code): label for code, label in labels.items()} for var, labels in yaml.safe_load(text).items()}


#: Q289 (major groups) -> the Q289CS9 label of the same group, for files without the detailed
#: column (the one-to-one mapping seen in WVS country files; 0 "no denomination" -> Non-religious).
Q289_AS_DETAILED = {
    0: "Non-religious",
    1: "Roman Catholic; Latin Church;",
    2: "Protestant; nfd",
    3: "Orthodox ; nfd",
    4: "Judaism",
    5: "Islam; nfd",
    6: "Hindu",
    7: "Buddhist",
    8: "Other Christian; nfd",
    9: "Other; nfd",
}


@dataclass(frozen=True)
class Attribute:
    """One of the 11 profile attributes: our column, the release's column and its WVS source."""

    name: str
    release_name: str
    source: str
    labels: dict[int, str] | None = None  # code -> label, for attributes read by lookup
    fallback_source: str | None = None  # used when `source` is absent from the file
    fallback_labels: dict[int, str] | None = None


LIFE_STAGES = (  # (label, lower age bound inclusive); each stage runs up to the next bound, exclusive
    ("Adolescence", 0),
    ("Young Adulthood", 18),
    ("Middle Adulthood", 35),
    ("Late Adulthood", 51),
    ("Older Adulthood", 65),
)
INCOME_BRACKETS = (("Low income", 1), ("Middle income", 4), ("High income", 8))  # Q288 steps 1-3/4-7/8-10


def _attributes() -> tuple[Attribute, ...]:
    codes = detailed_codes()
    return (
        Attribute("country", "Country", "B_COUNTRY_ALPHA"),
        Attribute("gender", "Gender", "Q260", {1: "Male", 2: "Female"}),
        Attribute("life_stage", "Life Stage", "Q262"),
        Attribute(
            "marital_status",
            "Marital Status",
            "Q273",
            {1: "Married", 2: "Living together as married", 3: "Divorced", 4: "Separated", 5: "Widowed", 6: "Single"},
        ),
        Attribute("has_children", "Has Children", "Q274"),
        Attribute("income_bracket", "Income Bracket", "Q288"),
        Attribute(
            "occupation",
            "Occupation",
            "Q279",
            {
                1: "Full time employee (30 hours a week or more)",
                2: "Part time employee (less than 30 hours a week)",
                3: "Self employed",
                4: "Retired/pensioned",
                5: "Housewife not otherwise employed",
                6: "Student",
                7: "Unemployed",
                8: "Other (write in):",
            },
        ),
        Attribute(
            "work_nature",
            "Work Nature",
            "Q284",
            {
                1: "Government or public institution",
                2: "Private business or industry",
                3: "Private non-profit organization",
            },
        ),
        Attribute(
            "education_level",
            "Education Level",
            "Q275",
            {
                0: "Early childhood education (ISCED 0) / no education",
                1: "Primary education (ISCED 1)",
                2: "Lower secondary education (ISCED 2)",
                3: "Upper secondary education (ISCED 3)",
                4: "Post-secondary non-tertiary education (ISCED 4)",
                5: "Short-cycle tertiary education (ISCED 5)",
                6: "Bachelor or equivalent (ISCED 6)",
                7: "Master or equivalent (ISCED 7)",
                8: "Doctoral or equivalent (ISCED 8)",
            },
        ),
        Attribute("religion", "Religion", "Q289CS9", codes["Q289CS9"], "Q289", Q289_AS_DETAILED),
        Attribute("common_language", "Common Language", "Q272", codes["Q272"]),
    )


ATTRIBUTES: tuple[Attribute, ...] = _attributes()
ATTRIBUTE_NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)


# --------------------------------------------------------------------------------------------
# Value questions. Option lists are in scale order (code 1 first). 1-10 scales are cut into
# Low (1-3) / Medium (4-7) / High (8-10), the same cut points the paper uses for income.
# --------------------------------------------------------------------------------------------

SOCIAL = "SOCIAL VALUES, ATTITUDES & STEREOTYPES"
HAPPINESS = "HAPPINESS AND WELL-BEING"
TRUST = "SOCIAL CAPITAL, TRUST & ORGANIZATIONAL MEMBERSHIP"
CORRUPTION = "CORRUPTION"
SECURITY = "SECURITY"

IMPORTANCE = ("Very important", "Rather important", "Not very important", "Not at all important")
AGREE_4 = ("Strongly agree", "Agree", "Disagree", "Strongly disagree")
AGREE_5 = ("Agree strongly", "Agree", "Neither agree nor disagree", "Disagree", "Disagree strongly")
TRUST_4 = ("Trust completely", "Trust somewhat", "Do not trust very much", "Do not trust at all")
CONFIDENCE = ("A great deal", "Quite a lot", "Not very much", "None at all")
LEVELS = ("Low", "Medium", "High")
SCALE_10_LOWER_BOUNDS = (1, 4, 8)  # Low = 1-3, Medium = 4-7, High = 8-10
QUALITY = ("Important", "Not important")  # WVS codes 1 "Mentioned"/"Important", 2 "Not mentioned"


@dataclass(frozen=True)
class Question:
    """A WVS value question: wording, WVS section, options in scale order, and how codes map to them."""

    id: str
    category: str
    text: str
    options: tuple[str, ...]
    scale_10: bool = False  # a 1-10 scale discretised to LEVELS

    @property
    def num_codes(self) -> int:
        return 10 if self.scale_10 else len(self.options)

    def option_index(self, codes: np.ndarray) -> np.ndarray:
        """0-based option index for each valid code (1..num_codes), -1 elsewhere."""
        codes = np.asarray(codes)
        valid = (codes >= 1) & (codes <= self.num_codes)
        if self.scale_10:
            index = np.searchsorted(SCALE_10_LOWER_BOUNDS, codes, side="right") - 1
        else:
            index = codes - 1
        return np.where(valid, index, -1).astype(np.int8)


def _importance(q: str, thing: str) -> Question:
    return Question(q, SOCIAL, f"How important is {thing} in your life?", IMPORTANCE)


TRAINING_QUESTIONS: tuple[Question, ...] = (
    _importance("Q1", "family"),
    Question("Q2", SOCIAL, "How important are friends in your life?", IMPORTANCE),
    _importance("Q3", "leisure time"),
    _importance("Q4", "politics"),
    _importance("Q5", "work"),
    _importance("Q6", "religion"),
    Question(
        "Q27", SOCIAL, "Do you agree that one of your main goals in life has been to make your parents proud?", AGREE_4
    ),
    Question(
        "Q29", SOCIAL, "Do you agree that on the whole, men make better political leaders than women do?", AGREE_4
    ),
    Question("Q36", SOCIAL, "Do you agree that homosexual couples are as good parents as other couples?", AGREE_5),
    Question(
        "Q46",
        HAPPINESS,
        "Taking all things together, would you say you are very happy, rather happy, "
        "not very happy, or not at all happy?",
        ("Very happy", "Rather happy", "Not very happy", "Not at all happy"),
    ),
    Question(
        "Q49",
        HAPPINESS,
        "All things considered, how satisfied are you with your life as a whole these days? "
        "Using this card on which 1 means you are 'completely dissatisfied' and 10 means you are 'completely "
        "satisfied', where would you put your satisfaction with your life as a whole?",
        LEVELS,
        scale_10=True,
    ),
    Question(
        "Q50",
        HAPPINESS,
        "How satisfied are you with the financial situation of your household? Using this "
        "card on which 1 means you are 'completely dissatisfied' and 10 means you are 'completely satisfied'",
        LEVELS,
        scale_10=True,
    ),
    Question(
        "Q60",
        TRUST,
        "How much do you trust people you know personally: completely, somewhat, not very much, or not at all?",
        TRUST_4,
    ),
    Question(
        "Q69",
        TRUST,
        "How much confidence do you have in the police: a great deal, quite a lot, not very much, or none at all?",
        CONFIDENCE,
    ),
    Question(
        "Q112",
        CORRUPTION,
        "How would you rate corruption in your country on a scale from '1' meaning 'there "
        "is no corruption in my country' to '10' meaning 'there is abundant corruption in my country'?",
        LEVELS,
        scale_10=True,
    ),
    Question(
        "Q131",
        SECURITY,
        "How secure do you feel these days?",
        ("Very secure", "Quite secure", "Not very secure", "Not at all secure"),
    ),
)

#: Paper App. E: semantic neighbours (Q61, Q70, Q113, Q132) and thematic extensions (Q8, Q9, Q37).
CROSS_VALUE_QUESTIONS: tuple[Question, ...] = (
    Question(
        "Q8",
        SOCIAL,
        "Here is a list of qualities that children can be encouraged to learn at home. Do you "
        "consider independence to be an especially important quality for children to learn?",
        QUALITY,
    ),
    Question(
        "Q9",
        SOCIAL,
        "Here is a list of qualities that children can be encouraged to learn at home. Do you "
        "consider hard work to be an especially important quality for children to learn?",
        QUALITY,
    ),
    Question("Q37", SOCIAL, "Do you agree that it is a duty towards society to have children?", AGREE_5),
    Question(
        "Q61",
        TRUST,
        "How much do you trust people you meet for the first time: completely, somewhat, not very "
        "much, or not at all?",
        TRUST_4,
    ),
    Question(
        "Q70",
        TRUST,
        "How much confidence do you have in the courts: a great deal, quite a lot, not very much, or none at all?",
        CONFIDENCE,
    ),
    Question(
        "Q113",
        CORRUPTION,
        "Among state authorities, how many do you believe are involved in corruption: none "
        "of them, few of them, most of them, or all of them?",
        ("None of them", "Few of them", "Most of them", "All of them"),
    ),
    Question(
        "Q132",
        SECURITY,
        "How frequently do robberies occur in your neighborhood?",
        ("Very frequently", "Quite frequently", "Not frequently", "Not at all frequently"),
    ),
)

QUESTIONS: dict[str, Question] = {q.id: q for q in TRAINING_QUESTIONS + CROSS_VALUE_QUESTIONS}
