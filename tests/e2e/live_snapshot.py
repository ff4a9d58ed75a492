"""What a restart of `carebase serve` must give back of the live state: the
tiles of every hospital, their bed boards and the alerts, without what moves
with the clock (now, the version counter, ages, boarding minutes, the
forecast, length-of-stay days) and without feed-silence alerts (made by the
clock, not by the events)."""
import json

HOSPITALS = ("HUB000001", "DIS000002", "CHC000003")


def snapshot(client):
    summary = client.get("/api/live/summary").body
    for h in summary["hospitals"]:
        for k in ("longest_boarding_min", "forecast", "los_outliers"):
            h.pop(k, None)
        for f in h["feeds"]:
            f.pop("age_s")
    summary.pop("now")
    summary.pop("version")
    boards = {}
    for hosp in HOSPITALS:
        b = client.get("/api/live/wards?hospital=" + hosp).body
        for x in b["boarders"]:
            x.pop("minutes")
        boards[hosp] = b
    alerts = [a for a in client.get("/api/live/alerts").body["alerts"] if a["kind"] != "feed_silent"]
    # through JSON, so that a snapshot saved to a file compares equal
    return json.loads(json.dumps({"summary": summary, "boards": boards, "alerts": alerts},
                                 ensure_ascii=False, sort_keys=True))
