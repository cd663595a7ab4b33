import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DateTime } from "luxon";
import { computeDeadline, formatInstant, isWorkingDay } from "./deadlines.ts";

const at = (iso: string) => DateTime.fromISO(iso, { setZone: true });
const due = (rule: Parameters<typeof computeDeadline>[0], iso: string) =>
  formatInstant(computeDeadline(rule, at(iso)));

describe("deadlines", () => {
  it("counts hours from the clock's instant and keeps its offset", () => {
    assert.equal(
      due({ clock: "aware", amount: 72, unit: "hours" }, "2026-11-21T09:30:00+01:00"),
      "2026-11-24T09:30:00+01:00",
    );
  });

  it("counts Brazilian working days, skipping weekends and national holidays", () => {
    const lgpd = {
      clock: "aware",
      amount: 3,
      unit: "working_days",
      zone: "America/Sao_Paulo",
      holidays: "BR",
    } as const;
    // Thursday 19 Nov 2026; Friday 20 Nov is Dia da Consciência Negra, then a weekend.
    assert.equal(due(lgpd, "2026-11-19T10:00:00-03:00"), "2026-11-25T23:59:59-03:00");
    // Christmas Day falls on a Friday.
    assert.equal(due(lgpd, "2026-12-23T16:00:00-03:00"), "2026-12-29T23:59:59-03:00");
    // The day is the one in Brazil, not in the clock's own zone: 01:00 UTC on the 20th is still the 19th there.
    assert.equal(due(lgpd, "2026-11-20T01:00:00Z"), "2026-11-25T23:59:59-03:00");
    assert.equal(isWorkingDay(at("2026-11-20T12:00:00-03:00"), "BR"), false);
    assert.equal(isWorkingDay(at("2026-11-23T12:00:00-03:00"), "BR"), true);
  });

  it("counts calendar days to the end of the last day in the law's zone", () => {
    const ny = { clock: "aware", amount: 30, unit: "calendar_days", zone: "America/New_York" } as const;
    assert.equal(due(ny, "2026-11-21T03:00:00Z"), "2026-12-20T23:59:59-05:00");
  });
});
