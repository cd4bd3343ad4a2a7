"""The code lists as dated data: every entry with the days it is valid and the source it comes
from. Pure data (no models), so that the seeding migration and `ensure_code_lists` share it.

Labels are short descriptions for people choosing a code, not the legal text; the legal text is
in the source named on each entry.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple


class CodeEntry(NamedTuple):
    code_list: str
    code: str
    label: str
    hazardous: bool = False
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    replaced_by: str = ""
    source: str = ""


BASEL_ANNEXES = "Basel Convention, Annexes I, II, VIII and IX"
BC_15_18 = "Basel Convention decision BC-15/18 (e-waste amendments, in force 2025-01-01)"
BASEL_ANNEX_III = "Basel Convention, Annex III (list of hazardous characteristics)"
WFD_ANNEX_I_II = "Directive 2008/98/EC, Annexes I (disposal) and II (recovery)"
LIST_OF_WASTE = "Commission Decision 2000/532/EC (List of Waste) as amended by Decision 2014/955/EU"
LOW_BATTERIES = (
    "Commission Delegated Decision (EU) 2025/934 amending the List of Waste for battery-related "
    "waste, applicable from 2026-12-09 (date as corrected, OJ corrigendum of 2025-08-19)"
)
HS_2022 = "WCO Harmonized System 2022 edition, heading 85.49"
ADR_IMDG = (
    "UN Model Regulations / ADR 2025 / IMDG Code, Dangerous Goods List and packing instructions"
)
FORM_NOTES = (
    "Regulation (EU) 2024/1157, Annex IA/IB, notes on filling in the forms (lists of abbreviations)"
)

E_WASTE_AMENDMENTS = dt.date(2025, 1, 1)
UNTIL_E_WASTE_AMENDMENTS = dt.date(2024, 12, 31)
BATTERY_CODES_CHANGE = dt.date(2026, 12, 9)
UNTIL_BATTERY_CODES_CHANGE = dt.date(2026, 12, 8)
PLASTIC_AMENDMENTS = dt.date(2021, 1, 1)
HS_2022_START = dt.date(2022, 1, 1)

_Y_CODES = [
    "Clinical wastes from medical care in hospitals, medical centres and clinics",
    "Wastes from the production and preparation of pharmaceutical products",
    "Waste pharmaceuticals, drugs and medicines",
    "Wastes from the production, formulation and use of biocides and phytopharmaceuticals",
    "Wastes from the manufacture, formulation and use of wood-preserving chemicals",
    "Wastes from the production, formulation and use of organic solvents",
    "Wastes from heat treatment and tempering operations containing cyanides",
    "Waste mineral oils unfit for their originally intended use",
    "Waste oils/water, hydrocarbons/water mixtures, emulsions",
    "Waste substances and articles containing or contaminated with PCBs, PCTs or PBBs",
    "Waste tarry residues from refining, distillation and any pyrolytic treatment",
    "Wastes from production, formulation and use of inks, dyes, pigments, paints, lacquers, varnish",
    "Wastes from production, formulation and use of resins, latex, plasticizers, glues/adhesives",
    "Unidentified or new waste chemical substances from research, development or teaching",
    "Wastes of an explosive nature not subject to other legislation",
    "Wastes from production, formulation and use of photographic chemicals and processing materials",
    "Wastes resulting from surface treatment of metals and plastics",
    "Residues arising from industrial waste disposal operations",
    "Metal carbonyls",
    "Beryllium; beryllium compounds",
    "Hexavalent chromium compounds",
    "Copper compounds",
    "Zinc compounds",
    "Arsenic; arsenic compounds",
    "Selenium; selenium compounds",
    "Cadmium; cadmium compounds",
    "Antimony; antimony compounds",
    "Tellurium; tellurium compounds",
    "Mercury; mercury compounds",
    "Thallium; thallium compounds",
    "Lead; lead compounds",
    "Inorganic fluorine compounds excluding calcium fluoride",
    "Inorganic cyanides",
    "Acidic solutions or acids in solid form",
    "Basic solutions or bases in solid form",
    "Asbestos (dust and fibres)",
    "Organic phosphorus compounds",
    "Organic cyanides",
    "Phenols; phenol compounds including chlorophenols",
    "Ethers",
    "Halogenated organic solvents",
    "Organic solvents excluding halogenated solvents",
    "Any congener of polychlorinated dibenzo-furan",
    "Any congener of polychlorinated dibenzo-p-dioxin",
    "Organohalogen compounds other than substances referred to in Annex I",
    "Wastes collected from households (Annex II)",
    "Residues arising from the incineration of household wastes (Annex II)",
]

BASEL = [
    CodeEntry("basel", f"Y{number}", label, False, None, None, "", BASEL_ANNEXES)
    for number, label in enumerate(_Y_CODES, start=1)
] + [
    CodeEntry(
        "basel",
        "Y48",
        "Plastic waste (Annex II)",
        False,
        PLASTIC_AMENDMENTS,
        None,
        "",
        BASEL_ANNEXES,
    ),
    CodeEntry(
        "basel",
        "Y49",
        "Electrical and electronic waste not in Annex VIII (Annex II)",
        False,
        E_WASTE_AMENDMENTS,
        None,
        "",
        BC_15_18,
    ),
    CodeEntry(
        "basel",
        "A1180",
        "Waste electrical and electronic assemblies or scrap with hazardous components (former entry)",
        True,
        None,
        UNTIL_E_WASTE_AMENDMENTS,
        "A1181",
        BC_15_18,
    ),
    CodeEntry(
        "basel",
        "A1181",
        "Waste electrical and electronic equipment containing or contaminated with Annex I constituents, or with hazardous components",
        True,
        E_WASTE_AMENDMENTS,
        None,
        "",
        BC_15_18,
    ),
    CodeEntry(
        "basel",
        "B1110",
        "Electrical and electronic assemblies, non-hazardous (deleted entry)",
        False,
        None,
        UNTIL_E_WASTE_AMENDMENTS,
        "Y49",
        BC_15_18,
    ),
    CodeEntry(
        "basel",
        "A1170",
        "Unsorted waste batteries, or waste batteries with Annex I constituents making them hazardous",
        True,
        None,
        None,
        "",
        BASEL_ANNEXES,
    ),
    CodeEntry(
        "basel",
        "B1090",
        "Waste batteries conforming to a specification, excluding those made with lead, cadmium or mercury",
        False,
        None,
        None,
        "",
        BASEL_ANNEXES,
    ),
]

_H_CODES = [
    ("H1", "Explosive"),
    ("H3", "Flammable liquids"),
    ("H4.1", "Flammable solids"),
    ("H4.2", "Substances or wastes liable to spontaneous combustion"),
    ("H4.3", "Substances or wastes which, in contact with water, emit flammable gases"),
    ("H5.1", "Oxidizing"),
    ("H5.2", "Organic peroxides"),
    ("H6.1", "Poisonous (acute)"),
    ("H6.2", "Infectious substances"),
    ("H8", "Corrosives"),
    ("H10", "Liberation of toxic gases in contact with air or water"),
    ("H11", "Toxic (delayed or chronic)"),
    ("H12", "Ecotoxic"),
    (
        "H13",
        "Capable, after disposal, of yielding a material with one of the characteristics above",
    ),
]
HAZARD = [
    CodeEntry("hazard", code, label, True, None, None, "", BASEL_ANNEX_III)
    for code, label in _H_CODES
]

_RECOVERY = [
    "Use principally as a fuel or other means to generate energy",
    "Solvent reclamation/regeneration",
    "Recycling/reclamation of organic substances not used as solvents",
    "Recycling/reclamation of metals and metal compounds",
    "Recycling/reclamation of other inorganic materials",
    "Regeneration of acids or bases",
    "Recovery of components used for pollution abatement",
    "Recovery of components from catalysts",
    "Oil re-refining or other reuses of oil",
    "Land treatment resulting in benefit to agriculture or ecological improvement",
    "Use of wastes obtained from any of the operations R1 to R10",
    "Exchange of wastes for submission to any of the operations R1 to R11",
    "Storage of wastes pending any of the operations R1 to R12",
]
_DISPOSAL = [
    "Deposit into or onto land (e.g. landfill)",
    "Land treatment",
    "Deep injection",
    "Surface impoundment",
    "Specially engineered landfill",
    "Release into a water body except seas/oceans",
    "Release into seas/oceans including sea-bed insertion",
    "Biological treatment resulting in compounds discarded by D1 to D12",
    "Physico-chemical treatment resulting in compounds discarded by D1 to D12",
    "Incineration on land",
    "Incineration at sea (prohibited)",
    "Permanent storage",
    "Blending or mixing prior to any of D1 to D12",
    "Repackaging prior to any of D1 to D13",
    "Storage pending any of the operations D1 to D14",
]
OPERATION = [
    CodeEntry("operation", f"R{n}", label, False, None, None, "", WFD_ANNEX_I_II)
    for n, label in enumerate(_RECOVERY, start=1)
] + [
    CodeEntry("operation", f"D{n}", label, False, None, None, "", WFD_ANNEX_I_II)
    for n, label in enumerate(_DISPOSAL, start=1)
]

_NEW_BATTERY_CODES = [
    ("16 06 04*", "Alkaline batteries (except 16 06 03), now hazardous", True),
    ("16 06 07*", "Lithium-based batteries", True),
    ("16 06 08*", "Nickel-based batteries other than 16 06 02 (e.g. NiMH)", True),
    ("16 06 09*", "Zinc-based batteries, including silver oxide", True),
    ("16 06 10*", "Sodium-based batteries with hazardous substances (except 16 06 11)", True),
    ("16 06 11*", "Sodium-sulphur batteries", True),
    ("16 06 12", "Other sodium-based batteries", False),
    ("16 06 13*", "Mixed battery waste", True),
    ("16 06 14*", "Other battery waste with hazardous substances", True),
    ("16 06 15", "Battery waste not otherwise specified", False),
    ("19 14 02*", "Intermediate fractions of lithium-based battery treatment (black mass)", True),
    ("19 14 07*", "Intermediate fractions of other battery treatment (black mass)", True),
    ("19 14 08", "Alloys from the recycling of battery waste (massive form)", False),
    (
        "20 01 42*",
        "Separately collected batteries of 16 06 01-04, 16 06 08-11, 16 06 14 and mixtures",
        True,
    ),
    ("20 01 43*", "Separately collected lithium-based batteries (16 06 07*)", True),
    ("20 01 44", "Separately collected batteries other than 20 01 42* and 20 01 43*", False),
]
EWC = [
    CodeEntry(
        "ewc",
        "16 02 13*",
        "Discarded equipment containing hazardous components",
        True,
        None,
        None,
        "",
        LIST_OF_WASTE,
    ),
    CodeEntry(
        "ewc",
        "16 02 14",
        "Discarded equipment other than 16 02 09 to 16 02 13",
        False,
        None,
        None,
        "",
        LIST_OF_WASTE,
    ),
    CodeEntry(
        "ewc",
        "16 02 15*",
        "Hazardous components removed from discarded equipment",
        True,
        None,
        None,
        "",
        LIST_OF_WASTE,
    ),
    CodeEntry(
        "ewc",
        "16 02 16",
        "Components removed from discarded equipment other than 16 02 15",
        False,
        None,
        None,
        "",
        LIST_OF_WASTE,
    ),
    CodeEntry(
        "ewc",
        "20 01 35*",
        "Discarded household electrical and electronic equipment with hazardous components",
        True,
        None,
        None,
        "",
        LIST_OF_WASTE,
    ),
    CodeEntry(
        "ewc",
        "20 01 36",
        "Discarded household electrical and electronic equipment other than 20 01 21, 20 01 23 and 20 01 35",
        False,
        None,
        None,
        "",
        LIST_OF_WASTE,
    ),
    CodeEntry("ewc", "16 06 01*", "Lead batteries", True, None, None, "", LIST_OF_WASTE),
    CodeEntry("ewc", "16 06 02*", "Ni-Cd batteries", True, None, None, "", LIST_OF_WASTE),
    CodeEntry(
        "ewc", "16 06 03*", "Mercury-containing batteries", True, None, None, "", LIST_OF_WASTE
    ),
    CodeEntry(
        "ewc",
        "16 06 04",
        "Alkaline batteries (except 16 06 03)",
        False,
        None,
        UNTIL_BATTERY_CODES_CHANGE,
        "16 06 04*",
        LOW_BATTERIES,
    ),
    CodeEntry(
        "ewc",
        "16 06 05",
        "Other batteries and accumulators (lithium batteries until 2026-12-08)",
        False,
        None,
        UNTIL_BATTERY_CODES_CHANGE,
        "16 06 07* for lithium-based batteries (16 06 08* to 16 06 15 by chemistry)",
        LOW_BATTERIES,
    ),
    CodeEntry(
        "ewc",
        "20 01 33*",
        "Separately collected batteries of 16 06 01-03 and unsorted batteries",
        True,
        None,
        UNTIL_BATTERY_CODES_CHANGE,
        "20 01 42* or 20 01 43*",
        LOW_BATTERIES,
    ),
    CodeEntry(
        "ewc",
        "20 01 34",
        "Separately collected batteries other than 20 01 33",
        False,
        None,
        UNTIL_BATTERY_CODES_CHANGE,
        "20 01 44",
        LOW_BATTERIES,
    ),
] + [
    CodeEntry("ewc", code, label, hazardous, BATTERY_CODES_CHANGE, None, "", LOW_BATTERIES)
    for code, label, hazardous in _NEW_BATTERY_CODES
]

_HS = [
    ("8549.11", "Battery waste: lead-acid accumulators"),
    ("8549.12", "Battery waste: other, containing lead, cadmium or mercury"),
    ("8549.13", "Battery waste: sorted by chemical type, without lead, cadmium or mercury"),
    ("8549.14", "Battery waste: unsorted, without lead, cadmium or mercury"),
    ("8549.19", "Battery waste: other"),
    (
        "8549.21",
        "E-waste of a kind used principally for precious-metal recovery, with batteries, mercury switches, CRT glass or PCB capacitors",
    ),
    ("8549.29", "E-waste of a kind used principally for precious-metal recovery: other"),
    ("8549.31", "Other electrical and electronic assemblies and boards, with hazardous components"),
    ("8549.39", "Other electrical and electronic assemblies and boards: other"),
    ("8549.91", "Other electrical and electronic waste with hazardous components"),
    ("8549.99", "Other electrical and electronic waste: other"),
]
HS = [CodeEntry("hs", code, label, False, HS_2022_START, None, "", HS_2022) for code, label in _HS]

UN_NUMBER = [
    CodeEntry(
        "un_number",
        "UN3480",
        "Lithium ion batteries (including lithium ion polymer batteries), class 9",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
    CodeEntry(
        "un_number",
        "UN3481",
        "Lithium ion batteries contained in or packed with equipment, class 9",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
    CodeEntry(
        "un_number",
        "UN3090",
        "Lithium metal batteries (including lithium alloy batteries), class 9",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
    CodeEntry(
        "un_number",
        "UN3091",
        "Lithium metal batteries contained in or packed with equipment, class 9",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
]
PACKING_INSTRUCTION = [
    CodeEntry(
        "packing_instruction",
        "P909",
        "Lithium batteries carried for disposal or recycling",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
    CodeEntry(
        "packing_instruction",
        "P908",
        "Damaged or defective lithium batteries",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
    CodeEntry(
        "packing_instruction",
        "LP904",
        "Damaged or defective lithium batteries, large packagings",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
    CodeEntry(
        "packing_instruction",
        "P911",
        "Damaged or defective lithium batteries liable to react dangerously (critical)",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
    CodeEntry(
        "packing_instruction",
        "LP906",
        "Critical damaged or defective lithium batteries, large packagings",
        True,
        None,
        None,
        "",
        ADR_IMDG,
    ),
]

_PACKAGING = [
    "Drum",
    "Wooden barrel",
    "Jerrican",
    "Box",
    "Bag",
    "Composite packaging",
    "Pressure receptacle",
    "Bulk",
    "Other (specify)",
]
PACKAGING = [
    CodeEntry("packaging", str(n), label, False, None, None, "", FORM_NOTES)
    for n, label in enumerate(_PACKAGING, start=1)
]

_PHYSICAL = [
    "Powdery/powder",
    "Solid",
    "Viscous/paste",
    "Sludgy",
    "Liquid",
    "Gaseous",
    "Other (specify)",
]
PHYSICAL = [
    CodeEntry("physical", str(n), label, False, None, None, "", FORM_NOTES)
    for n, label in enumerate(_PHYSICAL, start=1)
]

TRANSPORT = [
    CodeEntry("transport", code, label, False, None, None, "", FORM_NOTES)
    for code, label in [
        ("R", "Road"),
        ("T", "Train/rail"),
        ("S", "Sea"),
        ("A", "Air"),
        ("W", "Inland waterways"),
    ]
]

CODE_ENTRIES: list[CodeEntry] = (
    BASEL
    + HAZARD
    + OPERATION
    + EWC
    + HS
    + UN_NUMBER
    + PACKING_INSTRUCTION
    + PACKAGING
    + PHYSICAL
    + TRANSPORT
)
