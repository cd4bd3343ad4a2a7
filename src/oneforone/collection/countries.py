"""The countries the service collects in (DOMAIN.md section 1): code, name, currency, time zone."""

from __future__ import annotations

COUNTRIES: tuple[tuple[str, str, str, str], ...] = (
    ("GH", "Ghana", "GHS", "Africa/Accra"),
    ("NG", "Nigeria", "NGN", "Africa/Lagos"),
    ("CM", "Cameroon", "XAF", "Africa/Douala"),
    ("UG", "Uganda", "UGX", "Africa/Kampala"),
    ("ZM", "Zambia", "ZMW", "Africa/Lusaka"),
    ("RW", "Rwanda", "RWF", "Africa/Kigali"),
    ("TZ", "Tanzania", "TZS", "Africa/Dar_es_Salaam"),
    ("KE", "Kenya", "KES", "Africa/Nairobi"),
)
