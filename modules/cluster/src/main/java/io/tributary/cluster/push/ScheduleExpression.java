package io.tributary.cluster.push;

import java.text.ParseException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TimeZone;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.quartz.CronExpression;

/**
 * An Amazon EventBridge rule's schedule expression ({@code PutRule}'s {@code ScheduleExpression}): parsed, validated as
 * EventBridge validates it, and its ticks computed. Pure: time is passed in, nothing reads a clock.
 *
 * <h2>Syntax</h2>
 *
 * <p>{@code rate(value unit)}: {@code value} a positive integer; {@code unit} {@code minute}, {@code hour} or
 * {@code day} when the value is 1, {@code minutes}, {@code hours} or {@code days} otherwise ({@code rate(1 hours)} and
 * {@code rate(5 hour)} are refused). Exactly that text: no spaces inside the parentheses but the one between value and
 * unit, lower case, nothing around it. {@code second}/{@code seconds} exist only when the node allows them (tests);
 * EventBridge refuses them.
 *
 * <p>{@code cron(Minutes Hours Day-of-month Month Day-of-week Year)}: six fields separated by one space, in UTC.
 * <pre>
 * Minutes       0-59                , - * /
 * Hours         0-23                , - * /
 * Day-of-month  1-31                , - * ? / L W
 * Month         1-12 or JAN-DEC     , - * /
 * Day-of-week   1-7 or SUN-SAT      , - * ? / L #     (1 = SUN, as in Quartz)
 * Year          1970-2199           , - * /
 * </pre>
 * (EventBridge's table lists no {@code /} for Day-of-week, CloudWatch Events' earlier one did; it is accepted.)
 * One of Day-of-month and Day-of-week must be {@code ?} and the other not. {@code L} is the month's last day (or,
 * after a weekday, its last such weekday: {@code 6L} the last Friday); {@code 15W} the weekday nearest the 15th, within
 * the month; {@code 6#3} the third Friday, and a {@code #} must be the field's only entry ({@code 3#1,6#3} is refused).
 * Names are case-insensitive. The fields are checked against this grammar and the year range here, then handed to
 * Quartz's {@link CronExpression} (with a seconds field of {@code 0}), whose syntax EventBridge's follows; Quartz
 * computes the ticks. A seconds field, a missing or extra field, or Quartz's leniencies (trailing characters it
 * ignores, {@code /0}) are refused, so a cron can never tick more often than once a minute.
 *
 * <p>Anything else, {@code at(...)} (EventBridge Scheduler's, not a rule's) included, is refused with EventBridge's
 * {@code ValidationException} message, {@value #INVALID}.
 *
 * <h2>Ticks</h2>
 *
 * <p>A rate's period starts at {@code start}, when the rule was created or last enabled: EventBridge documents that "a
 * rate expression starts when you create the scheduled event rule". Its ticks are {@code start + k × period} for
 * k ≥ 1: the first one period after {@code start}, none at {@code start} itself, seconds kept. A cron ignores
 * {@code start}: its ticks are the whole UTC minutes (second 0) its fields match; once its years are over it has
 * none. EventBridge fires somewhere within a tick's minute; the instants here are the ticks themselves.
 *
 * <p>Worked example: a rule created at 2026-03-02T09:07:30Z with {@code rate(5 minutes)} ticks at 09:12:30, 09:17:30,
 * 09:22:30…; with {@code cron(0/15 * * * ? *)} at 09:15:00, 09:30:00…; with {@code cron(0 10 ? * 6#3 *)} at
 * 2026-03-20T10:00:00Z (the third Friday), then 2026-04-17T10:00:00Z. A cluster down from 09:20 to 10:05 catches up
 * {@code ticksBetween(created, 09:20, 10:05, limit)}: for the rate 09:22:30 … 10:02:30 (nine ticks), for the cron
 * 09:30, 09:45, 10:00.
 */
public final class ScheduleExpression {

  /** EventBridge's message for every refused schedule expression. */
  static final String INVALID = "Parameter ScheduleExpression is not valid.";

  private static final Pattern RATE = Pattern.compile("rate\\(([0-9]+) ([a-z]+)\\)");
  private static final Pattern CRON = Pattern.compile("cron\\((.*)\\)");

  private static final String STEP = "(/[1-9][0-9]*)?";
  private static final String NUMBER = "[0-9]{1,4}";
  private static final String MONTH = "([0-9]{1,2}|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)";
  private static final String WEEKDAY = "([0-9]|SUN|MON|TUE|WED|THU|FRI|SAT)";
  private static final Pattern NUMBERS = list(NUMBER);
  private static final Pattern MONTHS = list(MONTH);
  private static final Pattern WEEKDAYS = list(WEEKDAY);
  /** {@code L}, {@code L-3}, {@code LW}, {@code 15W}: Quartz allows them only as a field's single entry. */
  private static final Pattern DAY_OF_MONTH_SINGLE = Pattern.compile("L(-[0-9]{1,2})?W?|[0-9]{1,2}W");
  private static final Pattern DAY_OF_WEEK_SINGLE = Pattern.compile("L|" + WEEKDAY + "(L|#[0-9])");
  private static final Pattern YEAR = Pattern.compile("[0-9]+");
  private static final int FIRST_YEAR = 1970;
  private static final int LAST_YEAR = 2199;

  private final String expression;
  /** A rate's period, or null for a cron. */
  private final Duration period;
  /** A cron's Quartz expression (UTC), or null for a rate. */
  private final CronExpression cron;

  private ScheduleExpression(String expression, Duration period, CronExpression cron) {
    this.expression = expression;
    this.period = period;
    this.cron = cron;
  }

  /**
   * Parses; throws IllegalArgumentException whose message is EventBridge's ValidationException message ("Parameter
   * ScheduleExpression is not valid.").
   *
   * @param allowSeconds whether {@code rate(N second|seconds)} is accepted: a node setting for tests, never AWS's
   */
  public static ScheduleExpression parse(String expression, boolean allowSeconds) {
    if (expression == null) {
      throw invalid();
    }
    Matcher rate = RATE.matcher(expression);
    if (rate.matches()) {
      return new ScheduleExpression(expression, period(rate.group(1), rate.group(2), allowSeconds), null);
    }
    Matcher cron = CRON.matcher(expression);
    if (cron.matches()) {
      return new ScheduleExpression(expression, null, cron(cron.group(1)));
    }
    throw invalid();
  }

  private static Duration period(String digits, String unit, boolean allowSeconds) {
    int value;
    try {
      value = Integer.parseInt(digits);
    } catch (NumberFormatException tooLarge) {
      throw invalid();
    }
    if (value < 1) {
      throw invalid();
    }
    boolean plural = unit.endsWith("s");
    if (plural != (value > 1)) {
      throw invalid();
    }
    return switch (plural ? unit.substring(0, unit.length() - 1) : unit) {
      case "minute" -> Duration.ofMinutes(value);
      case "hour" -> Duration.ofHours(value);
      case "day" -> Duration.ofDays(value);
      case "second" -> {
        if (!allowSeconds) {
          throw invalid();
        }
        yield Duration.ofSeconds(value);
      }
      default -> throw invalid();
    };
  }

  private static CronExpression cron(String body) {
    String[] fields = body.toUpperCase(Locale.ROOT).split(" ", -1);
    if (fields.length != 6) {
      throw invalid();
    }
    String dayOfMonth = fields[2];
    String dayOfWeek = fields[4];
    boolean fieldsMatch = NUMBERS.matcher(fields[0]).matches()
        && NUMBERS.matcher(fields[1]).matches()
        && (dayOfMonth.equals("?") || DAY_OF_MONTH_SINGLE.matcher(dayOfMonth).matches()
            || NUMBERS.matcher(dayOfMonth).matches())
        && MONTHS.matcher(fields[3]).matches()
        && (dayOfWeek.equals("?") || DAY_OF_WEEK_SINGLE.matcher(dayOfWeek).matches()
            || WEEKDAYS.matcher(dayOfWeek).matches())
        && NUMBERS.matcher(fields[5]).matches()
        && (dayOfMonth.equals("?") != dayOfWeek.equals("?"))
        && yearsInRange(fields[5]);
    if (!fieldsMatch) {
      throw invalid();
    }
    try {
      CronExpression parsed = new CronExpression("0 " + String.join(" ", fields));
      parsed.setTimeZone(TimeZone.getTimeZone("UTC"));
      return parsed;
    } catch (ParseException | RuntimeException refused) {
      throw invalid();
    }
  }

  /** Quartz takes any year; EventBridge only 1970–2199. Steps after a {@code /} are not years. */
  private static boolean yearsInRange(String field) {
    for (String entry : field.split(",")) {
      String range = entry.split("/")[0];
      Matcher year = YEAR.matcher(range);
      while (year.find()) {
        int value = Integer.parseInt(year.group());
        if (value < FIRST_YEAR || value > LAST_YEAR) {
          return false;
        }
      }
    }
    return true;
  }

  /** One or more comma-separated entries: {@code *}, a value or a range, each with an optional step. */
  private static Pattern list(String value) {
    String entry = "(\\*|" + value + "(-" + value + ")?)" + STEP;
    return Pattern.compile(entry + "(," + entry + ")*");
  }

  private static IllegalArgumentException invalid() {
    return new IllegalArgumentException(INVALID);
  }

  /** The expression as given. */
  public String expression() {
    return expression;
  }

  /**
   * The first tick strictly after {@code after}, for a schedule whose period started at {@code start} (rates count from
   * start; cron ignores it); empty when there is none (a cron whose years are over).
   */
  public Optional<Instant> nextTick(Instant start, Instant after) {
    return period != null ? nextRateTick(start, after) : nextCronTick(after);
  }

  private Optional<Instant> nextRateTick(Instant start, Instant after) {
    long periodSeconds = period.getSeconds();
    // Ticks sit a whole number of seconds from start: start + k·P > after exactly when k·P exceeds the whole seconds
    // elapsed, whatever the fraction.
    long elapsed = after.isBefore(start) ? -1 : Duration.between(start, after).getSeconds();
    long k = elapsed < 0 ? 1 : elapsed / periodSeconds + 1;
    try {
      return Optional.of(start.plusSeconds(Math.multiplyExact(k, periodSeconds)));
    } catch (ArithmeticException | DateTimeException beyondTime) {
      return Optional.empty();
    }
  }

  private Optional<Instant> nextCronTick(Instant after) {
    // Quartz gives up past its own horizon (the year it was loaded + 100); EventBridge's ends at 2199 anyway.
    Date next;
    try {
      next = cron.getTimeAfter(Date.from(after));
    } catch (IllegalArgumentException beyondDate) {
      return Optional.empty();
    }
    return Optional.ofNullable(next).map(Date::toInstant);
  }

  /**
   * The ticks in (from, to], at most {@code limit}, in order — for catching up ticks missed while a cluster was down.
   */
  public List<Instant> ticksBetween(Instant start, Instant from, Instant to, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must not be negative: " + limit);
    }
    List<Instant> ticks = new ArrayList<>();
    Instant last = from;
    while (ticks.size() < limit) {
      Optional<Instant> next = nextTick(start, last);
      if (next.isEmpty() || next.get().isAfter(to)) {
        break;
      }
      last = next.get();
      ticks.add(last);
    }
    return ticks;
  }

  @Override
  public String toString() {
    return expression;
  }
}
