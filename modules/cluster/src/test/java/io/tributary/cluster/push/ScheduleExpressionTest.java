package io.tributary.cluster.push;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * EventBridge's schedule expressions: which ones PutRule takes, and when they tick. The accepted and refused
 * expressions marked "AWS" are ones EventBridge was seen to accept or refuse (LocalStack's AWS-validated tests, the
 * EventBridge user guide's examples).
 */
class ScheduleExpressionTest {

  private static final Instant CREATED = Instant.parse("2026-03-02T09:07:30Z");

  private static ScheduleExpression parse(String expression) {
    return ScheduleExpression.parse(expression, false);
  }

  private static Instant at(String instant) {
    return Instant.parse(instant);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
      "cron(0 10 * * ? *)", "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
      "cron(0/15 * * * ? *)", "cron(0/10 * ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)",
      "cron(0/30 20-23 ? * MON-FRI *)", "cron(0 2 ? * SAT *)", "cron(5,35 14 * * ? *)",
      "cron(15 10 ? * 6L 2002-2005)", "cron(0 2 ? * SAT#3 *)", "cron(* * ? * SAT#3 *)", "cron(0/5 5 ? JAN 1-5 2022)",
      "cron(* * ? * mon-sun *)", "cron(0 0 L * ? *)", "cron(0 9 15W * ? *)", "cron(0 10 ? * 6#3 *)",
      "cron(0 12 1 JAN,JUL ? 1970-2199)", "cron(*/20 */6 ? * L *)"})
  void acceptsWhatEventBridgeAccepts(String expression) {
    assertEquals(expression, parse(expression).expression());
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        Arguments.of("rate(10 seconds)", "AWS: seconds are not a unit"),
        Arguments.of("rate(10 years)", "AWS: years are not a unit"),
        Arguments.of("rate(1 minutes)", "AWS: a value of 1 takes the singular"),
        Arguments.of("rate(1 hours)", "AWS: a value of 1 takes the singular"),
        Arguments.of("rate(1 days)", "AWS: a value of 1 takes the singular"),
        Arguments.of("rate(10 minute)", "AWS: a value over 1 takes the plural"),
        Arguments.of("rate(10 hour)", "AWS: a value over 1 takes the plural"),
        Arguments.of("rate(10 day)", "AWS: a value over 1 takes the plural"),
        Arguments.of("rate()", "AWS: no value, no unit"),
        Arguments.of("rate(10)", "AWS: no unit"),
        Arguments.of("rate(10 minutess)", "AWS: unknown unit"),
        Arguments.of("rate(foo minutes)", "AWS: the value is not a number"),
        Arguments.of("rate(0 minutes)", "AWS: the value must be positive"),
        Arguments.of("rate(-10 minutes)", "AWS: the value must be positive"),
        Arguments.of("rate(10 MINUTES)", "AWS: units are lower case"),
        Arguments.of("rate( 10 minutes )", "AWS: no spaces inside the parentheses"),
        Arguments.of(" rate(10 minutes)", "AWS: nothing around the expression"),
        Arguments.of("rate(99999999999 minutes)", "the value is not an integer"),
        Arguments.of("cron(0 1 * * * *)", "AWS: day-of-month and day-of-week both given"),
        Arguments.of("cron(7 20 * * 1-7 *)", "AWS: day-of-month and day-of-week both given"),
        Arguments.of("cron(7 20 * * NOT *)", "AWS: NOT is no day of the week"),
        Arguments.of("cron(INVALID)", "AWS: not six fields"),
        Arguments.of("cron(0 dummy ? * MON-FRI *)", "AWS: hours are numbers"),
        Arguments.of("cron(71 8 1 * ? *)", "AWS: minutes are 0-59"),
        Arguments.of("cron(0 10 ? * 3#1,6#3 *)", "AWS docs: one # expression at most"),
        Arguments.of("cron(0 12 ? * ? *)", "AWS docs: only one of the day fields may be ?"),
        Arguments.of("cron(0 12 * * ? 1969)", "AWS docs: years are 1970-2199"),
        Arguments.of("cron(0 12 * * ? 2100-2200)", "AWS docs: years are 1970-2199"),
        Arguments.of("cron(0 0 12 * * ? *)", "a seconds field: EventBridge has six fields"),
        Arguments.of("cron(0 12 * * ?)", "five fields: the year is required"),
        Arguments.of("cron(0 12 * 13 ? *)", "months are 1-12"),
        Arguments.of("cron(0 12 ? * 0 *)", "days of the week are 1-7"),
        Arguments.of("cron(0 12 ? * 8 *)", "days of the week are 1-7"),
        Arguments.of("cron(0 10 ? * 6#6 *)", "there is no sixth Friday"),
        Arguments.of("cron(0 L * * ? *)", "L is for the day fields"),
        Arguments.of("cron(0 12 * * 6W *)", "W is for the day of the month"),
        Arguments.of("cron(5x 12 * * ? *)", "trailing characters Quartz would ignore"),
        Arguments.of("cron(0/0 * * * ? *)", "a step of 0"),
        Arguments.of("cron(0  12 * * ? *)", "fields are separated by one space"),
        Arguments.of("cron(0 12 * * ? *) ", "nothing around the expression"),
        Arguments.of("CRON(0 12 * * ? *)", "the keyword is lower case"),
        Arguments.of("at(2026-03-02T09:00:00)", "one-time schedules are EventBridge Scheduler's, not a rule's"),
        Arguments.of("", "empty"));
  }

  @ParameterizedTest(name = "{1}: \"{0}\"")
  @MethodSource("refused")
  void refusesWithEventBridgesMessage(String expression, String reason) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(expression), reason);
    assertEquals("Parameter ScheduleExpression is not valid.", e.getMessage());
  }

  @Test
  void secondsAreATestOnlyRateTheNodeMustAllow() {
    assertThrows(IllegalArgumentException.class, () -> ScheduleExpression.parse("rate(10 seconds)", false));
    assertThrows(IllegalArgumentException.class, () -> ScheduleExpression.parse("rate(1 seconds)", true));
    assertThrows(IllegalArgumentException.class, () -> ScheduleExpression.parse("rate(10 second)", true));
    assertThrows(IllegalArgumentException.class, () -> ScheduleExpression.parse("cron(0/10 * * * * ? *)", true),
        "seconds are for rates only; a cron has no seconds field");
    ScheduleExpression everyTenSeconds = ScheduleExpression.parse("rate(10 seconds)", true);
    assertEquals(List.of(at("2026-03-02T09:07:40Z"), at("2026-03-02T09:07:50Z"), at("2026-03-02T09:08:00Z")),
        everyTenSeconds.ticksBetween(CREATED, CREATED, at("2026-03-02T09:08:05Z"), 10));
    assertEquals(Optional.of(at("2026-03-02T09:07:31Z")),
        ScheduleExpression.parse("rate(1 second)", true).nextTick(CREATED, CREATED));
  }

  @Test
  void aRateTicksOnePeriodAfterItsStartAndEveryPeriodAfter() {
    ScheduleExpression everyFive = parse("rate(5 minutes)");
    assertEquals(Optional.of(at("2026-03-02T09:12:30Z")), everyFive.nextTick(CREATED, CREATED), "none at the start");
    assertEquals(Optional.of(at("2026-03-02T09:12:30Z")), everyFive.nextTick(CREATED, at("2026-03-01T00:00:00Z")));
    assertEquals(Optional.of(at("2026-03-02T09:12:30Z")), everyFive.nextTick(CREATED, at("2026-03-02T09:12:29.999Z")));
    assertEquals(Optional.of(at("2026-03-02T09:17:30Z")), everyFive.nextTick(CREATED, at("2026-03-02T09:12:30Z")),
        "strictly after");
    assertEquals(Optional.of(at("2026-03-03T00:02:30Z")), everyFive.nextTick(CREATED, at("2026-03-03T00:00:00Z")),
        "counted from the start, not from midnight or the hour");
    assertEquals(Optional.of(at("2026-03-09T09:07:30Z")),
        parse("rate(7 days)").nextTick(CREATED, at("2026-03-05T00:00:00Z")));
    assertEquals(Optional.of(at("2026-03-02T10:07:30Z")), parse("rate(1 hour)").nextTick(CREATED, CREATED));
  }

  @Test
  void aCronAtNoonTicksDailyAtNoonUtcWhateverTheStart() {
    ScheduleExpression noon = parse("cron(0 12 * * ? *)");
    assertEquals(Optional.of(at("2026-03-02T12:00:00Z")), noon.nextTick(CREATED, CREATED));
    assertEquals(Optional.of(at("2026-03-02T12:00:00Z")), noon.nextTick(at("2020-01-01T00:00:00Z"), CREATED),
        "a cron ignores the start");
    assertEquals(Optional.of(at("2026-03-02T12:00:00Z")), noon.nextTick(CREATED, at("2026-03-02T11:59:59.999Z")));
    assertEquals(Optional.of(at("2026-03-03T12:00:00Z")), noon.nextTick(CREATED, at("2026-03-02T12:00:00Z")));
    assertEquals(Optional.of(at("2026-03-03T12:00:00Z")), noon.nextTick(CREATED, at("2026-03-02T12:00:00.001Z")));
  }

  @Test
  void everyFifteenMinutesTicksOnTheQuarterHours() {
    ScheduleExpression quarters = parse("cron(0/15 * * * ? *)");
    assertEquals(Optional.of(at("2026-03-02T09:15:00Z")), quarters.nextTick(CREATED, CREATED));
    assertEquals(List.of(at("2026-03-02T09:15:00Z"), at("2026-03-02T09:30:00Z"), at("2026-03-02T09:45:00Z"),
            at("2026-03-02T10:00:00Z")),
        quarters.ticksBetween(CREATED, at("2026-03-02T09:00:00Z"), at("2026-03-02T10:00:00Z"), 100),
        "from excluded, to included");
  }

  @Test
  void lIsTheLastDayOfTheMonthLeapYearsIncluded() {
    assertEquals(List.of(at("2024-01-31T00:00:00Z"), at("2024-02-29T00:00:00Z"), at("2024-03-31T00:00:00Z"),
            at("2024-04-30T00:00:00Z")),
        parse("cron(0 0 L * ? *)").ticksBetween(CREATED, at("2024-01-15T00:00:00Z"), at("2024-05-01T00:00:00Z"), 10));
    assertEquals(List.of(at("2026-03-27T18:30:00Z"), at("2026-04-24T18:30:00Z")),
        parse("cron(30 18 ? * 6L *)").ticksBetween(CREATED, CREATED, at("2026-05-01T00:00:00Z"), 10),
        "6L: the last Friday");
  }

  @Test
  void wIsTheNearestWeekdayWithinTheMonth() {
    // 2026-08-15 is a Saturday, 2026-11-15 a Sunday.
    assertEquals(List.of(at("2026-08-14T09:00:00Z"), at("2026-09-15T09:00:00Z"), at("2026-10-15T09:00:00Z"),
            at("2026-11-16T09:00:00Z")),
        parse("cron(0 9 15W * ? *)").ticksBetween(CREATED, at("2026-07-20T00:00:00Z"), at("2026-11-30T00:00:00Z"), 10));
    // 2026-08-01 is a Saturday: the nearest weekday in August is Monday the 3rd, not Friday July 31st.
    assertEquals(Optional.of(at("2026-08-03T09:00:00Z")),
        parse("cron(0 9 1W * ? *)").nextTick(CREATED, at("2026-07-20T00:00:00Z")));
  }

  @Test
  void hashIsTheNthWeekdayOfTheMonthAndSundayIsDayOne() {
    assertEquals(List.of(at("2026-03-20T10:00:00Z"), at("2026-04-17T10:00:00Z")),
        parse("cron(0 10 ? * 6#3 *)").ticksBetween(CREATED, CREATED, at("2026-05-01T00:00:00Z"), 10),
        "the third Friday");
    assertEquals(Optional.of(at("2026-03-08T10:00:00Z")), parse("cron(0 10 ? * 1 *)").nextTick(CREATED, CREATED),
        "1 is Sunday");
    assertEquals(Optional.of(at("2026-03-07T10:00:00Z")), parse("cron(0 10 ? * 7 *)").nextTick(CREATED, CREATED),
        "7 is Saturday");
    assertEquals(Optional.of(at("2026-03-03T10:00:00Z")), parse("cron(0 10 ? * tue *)").nextTick(CREATED, CREATED));
  }

  @Test
  void aCronWhoseYearsAreOverHasNoMoreTicks() {
    ScheduleExpression newYear2027 = parse("cron(0 12 1 1 ? 2027)");
    assertEquals(Optional.of(at("2027-01-01T12:00:00Z")), newYear2027.nextTick(CREATED, CREATED));
    assertEquals(Optional.empty(), newYear2027.nextTick(CREATED, at("2027-01-01T12:00:00Z")));
    assertEquals(List.of(), newYear2027.ticksBetween(CREATED, at("2027-01-01T12:00:00Z"), at("2199-12-31T00:00:00Z"),
        10));
    assertEquals(Optional.empty(), parse("cron(15 10 ? * 6L 2002-2005)").nextTick(CREATED, CREATED));
  }

  @Test
  void ticksBetweenStopsAtTheLimitInOrder() {
    ScheduleExpression everyMinute = parse("rate(1 minute)");
    Instant downAt = at("2026-03-02T10:00:00Z");
    List<Instant> first = everyMinute.ticksBetween(CREATED, downAt, downAt.plusSeconds(3600), 3);
    assertEquals(List.of(at("2026-03-02T10:00:30Z"), at("2026-03-02T10:01:30Z"), at("2026-03-02T10:02:30Z")), first);
    assertEquals(List.of(at("2026-03-02T10:03:30Z"), at("2026-03-02T10:04:30Z")),
        everyMinute.ticksBetween(CREATED, first.get(2), downAt.plusSeconds(3600), 2), "the next page");
    assertEquals(60, everyMinute.ticksBetween(CREATED, downAt, downAt.plusSeconds(3600), 1000).size());
    assertEquals(List.of(at("2026-03-03T12:00:00Z"), at("2026-03-04T12:00:00Z")),
        parse("cron(0 12 * * ? *)").ticksBetween(CREATED, at("2026-03-02T12:00:00Z"), at("2026-03-10T00:00:00Z"), 2));
  }

  @Test
  void theWorkedExampleOfTheClassDocumentation() {
    Instant down = at("2026-03-02T09:20:00Z");
    Instant up = at("2026-03-02T10:05:00Z");
    List<Instant> rate = parse("rate(5 minutes)").ticksBetween(CREATED, down, up, 100);
    assertEquals(9, rate.size());
    assertEquals(at("2026-03-02T09:22:30Z"), rate.get(0));
    assertEquals(at("2026-03-02T10:02:30Z"), rate.get(8));
    assertEquals(List.of(at("2026-03-02T09:30:00Z"), at("2026-03-02T09:45:00Z"), at("2026-03-02T10:00:00Z")),
        parse("cron(0/15 * * * ? *)").ticksBetween(CREATED, down, up, 100));
  }

  @Test
  void emptyWindowsAndAZeroLimitHaveNoTicks() {
    ScheduleExpression everyMinute = parse("rate(1 minute)");
    assertTrue(everyMinute.ticksBetween(CREATED, at("2026-03-02T10:00:00Z"), at("2026-03-02T10:00:00Z"), 5).isEmpty());
    assertTrue(everyMinute.ticksBetween(CREATED, at("2026-03-02T11:00:00Z"), at("2026-03-02T10:00:00Z"), 5).isEmpty());
    assertTrue(everyMinute.ticksBetween(CREATED, CREATED, at("2026-03-02T11:00:00Z"), 0).isEmpty());
    assertThrows(IllegalArgumentException.class,
        () -> everyMinute.ticksBetween(CREATED, CREATED, at("2026-03-02T11:00:00Z"), -1));
  }
}
