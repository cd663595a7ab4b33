import Holidays from "date-holidays";
import type { DateTime } from "luxon";
import type { DeadlineRule } from "./rule-schema.ts";

/**
 * When a notice is due. Hours run from the clock's instant; calendar and working days are counted in
 * the law's zone from the day after the clock, and the deadline is the end of the last day. Working
 * days skip weekends and the country's public holidays, taken from the date-holidays library.
 */

const holidayCalendars = new Map<string, Holidays>();

function calendar(country: string): Holidays {
  let hd = holidayCalendars.get(country);
  if (!hd) {
    hd = new Holidays(country);
    holidayCalendars.set(country, hd);
  }
  return hd;
}

export function isPublicHoliday(day: DateTime, country: string): boolean {
  // Noon avoids any question of which day a midnight instant belongs to in the calendar's own zone.
  const found = calendar(country).isHoliday(day.set({ hour: 12 }).toJSDate());
  return Array.isArray(found) && found.some((h) => h.type === "public");
}

export function isWorkingDay(day: DateTime, country: string): boolean {
  return day.weekday <= 5 && !isPublicHoliday(day, country);
}

const endOfDay = (day: DateTime) => day.set({ hour: 23, minute: 59, second: 59, millisecond: 0 });

export function computeDeadline(rule: DeadlineRule, start: DateTime): DateTime {
  if (rule.unit === "hours") return start.plus({ hours: rule.amount });
  const local = rule.zone ? start.setZone(rule.zone) : start;
  if (rule.unit === "calendar_days") return endOfDay(local.plus({ days: rule.amount }));
  let day = local.startOf("day");
  let counted = 0;
  while (counted < rule.amount) {
    day = day.plus({ days: 1 });
    if (isWorkingDay(day, rule.holidays ?? "")) counted++;
  }
  return endOfDay(day);
}

export function formatInstant(instant: DateTime): string {
  return instant.toISO({ suppressMilliseconds: true }) ?? instant.toString();
}
