"""Ports, inland places and sea areas used by the generated schedules and shipments."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Port:
    unlocode: str
    name: str
    latitude: float
    longitude: float

    @property
    def country(self) -> str:
        return self.unlocode[:2]


HOME_PORTS = (
    Port("USLAX", "Los Angeles", 33.7397, -118.2597),
    Port("USLGB", "Long Beach", 33.7540, -118.2165),
)
FOREIGN_PORTS = (
    Port("CNSHA", "Shanghai", 31.2304, 121.4909),
    Port("CNNGB", "Ningbo", 29.8683, 121.5440),
    Port("CNYTN", "Yantian", 22.5720, 114.2770),
    Port("CNSHK", "Shekou", 22.4810, 113.9110),
    Port("CNXMN", "Xiamen", 24.4798, 118.0894),
    Port("CNTAO", "Qingdao", 36.0671, 120.3826),
    Port("HKHKG", "Hong Kong", 22.3027, 114.1772),
    Port("KRPUS", "Busan", 35.1028, 129.0403),
    Port("JPTYO", "Tokyo", 35.6170, 139.7940),
    Port("TWKHH", "Kaohsiung", 22.6163, 120.2850),
    Port("VNCMT", "Cai Mep", 10.5333, 107.0333),
    Port("SGSIN", "Singapore", 1.2644, 103.8220),
    Port("THLCH", "Laem Chabang", 13.0827, 100.8833),
    Port("MYPKG", "Port Klang", 3.0000, 101.3900),
    Port("USHNL", "Honolulu", 21.3069, -157.8700),
    Port("NLRTM", "Rotterdam", 51.9500, 4.1400),
    Port("CAVAN", "Vancouver", 49.2900, -123.1100),
)
PORT_AUTHORITY = {"USLAX": "POLA", "USLGB": "POLB"}

# Where import boxes go after the terminal, and where exports come from.
LOCAL_DELIVERY = ("USLAX", "USLGB", "USONT", "USPHX", "USLAS")
RAIL_DELIVERY = ("USCHI", "USDAL", "USMEM", "USMKC", "USATL")
LOCAL_RECEIPT = ("USLAX", "USONT", "USFAT", "USSCK")
RAIL_RECEIPT = ("USMKC", "USCHI", "USDAL", "USMEM")

# San Pedro Bay anchorage and the sea buoy inbound ships steer for.
ANCHORAGE = (33.6950, -118.2100)
SEA_BUOY = (33.6900, -118.2500)
