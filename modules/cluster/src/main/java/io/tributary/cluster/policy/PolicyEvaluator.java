package io.tributary.cluster.policy;

import io.tributary.api.PolicyStatement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Decides whether a caller may perform an action on a function, from the function's resource-based
 * policy, as AWS's policy evaluation logic decides it for Lambda. Pure: no actor, no I/O; one
 * evaluation is a few string comparisons per statement.
 *
 * <p><b>The request.</b> Who calls ({@link Caller}: anonymous, an account, an IAM user or role, an
 * AWS service such as {@code events.amazonaws.com}), the action ({@code lambda:InvokeFunction},
 * {@code lambda:InvokeFunctionUrl}), the resource (the ARN the caller named: unqualified, or with
 * the version or alias it named) and the request's context keys ({@code aws:SourceArn},
 * {@code aws:SourceAccount}, {@code aws:PrincipalOrgID}, {@code lambda:FunctionUrlAuthType},
 * {@code lambda:InvokedViaFunctionUrl}, ...; names compared without regard to case, as IAM's are).
 *
 * <p><b>Which statements apply.</b> A statement applies when all four of its parts match:
 * <ul>
 *   <li>{@code Principal}: {@code *} is anyone, anonymous callers and services included; an account
 *       (its id or {@code arn:aws:iam::<id>:root}) is every IAM principal of that account; an IAM
 *       ARN is that user or role (a role also covers its {@code assumed-role} sessions); a service
 *       principal is that service calling on its own behalf.
 *   <li>{@code Action}: the action's name or a pattern ({@code lambda:*}, {@code *},
 *       {@code lambda:Invoke*}), without regard to case.
 *   <li>{@code Resource}: {@code *}, or an ARN pattern matched part by part as {@code ArnLike}
 *       matches. AddPermission sets it to the exact ARN of the qualifier the permission was added
 *       on, so, as on AWS, a permission without a qualifier covers only calls that name the
 *       unqualified function, and one on alias {@code live} only calls that name {@code fn:live}
 *       (not the version {@code live} points to): "the permission you grant applies only to the ARN
 *       used in the add permission request".
 *   <li>{@code Condition}: every operator and every key in it holds (AND); a key with several
 *       values holds when any value matches (OR), or, for a negated operator, when none does. A key
 *       the request lacks fails a condition, except for the negated operators ({@code StringNotEquals},
 *       {@code ArnNotLike}, ...), which hold, and the {@code ...IfExists} forms, which hold.
 *       Operators: {@code StringEquals}, {@code StringNotEquals}, {@code StringEqualsIgnoreCase},
 *       {@code StringNotEqualsIgnoreCase}, {@code StringLike}, {@code StringNotLike} (case-sensitive,
 *       {@code *} and {@code ?} wildcards), {@code ArnEquals}, {@code ArnLike}, {@code ArnNotEquals},
 *       {@code ArnNotLike} (the six colon-separated parts of the ARN each matched with wildcards:
 *       AWS's ArnEquals behaves as ArnLike), {@code Bool}; each also with {@code IfExists}.
 * </ul>
 *
 * <p><b>The decision.</b> An applicable {@code Deny} wins over everything ({@link ExplicitDeny}).
 * Otherwise who the caller is decides what else is needed, as AWS's same-account and cross-account
 * rules have it:
 * <ul>
 *   <li>anonymous callers and services have no identity of their own: an applicable {@code Allow}
 *       statement is needed;
 *   <li>an IAM principal of the function's own account (the account in the resource ARN) is allowed
 *       by an applicable {@code Allow} statement <em>or</em> by its own identity-based policies;
 *   <li>an IAM principal of another account needs both: an applicable {@code Allow} statement
 *       <em>and</em> its identity-based policies.
 * </ul>
 * Identity-based policies are the constructor's {@link IdentityPolicies}. Tributary has none yet:
 * every signing key may use the whole Lambda API, so {@link IdentityPolicies#UNRESTRICTED} allows
 * everything, and then callers of the function's own account are allowed without a statement (as
 * the Invoke API allows every key today), while another account's callers are allowed exactly
 * when a statement allows them. Anything else is {@link ImplicitDeny}, whose reason names each
 * {@code Allow} statement and the first part of it that did not match, for the log line.
 *
 * <p>Worked example, a function URL with {@code AuthType NONE} on function {@code orders} whose
 * policy holds the two statements AWS requires since October 2025:
 * <pre>
 *   url:    Allow * lambda:InvokeFunctionUrl  StringEquals lambda:FunctionUrlAuthType NONE
 *   invoke: Allow * lambda:InvokeFunction     Bool lambda:InvokedViaFunctionUrl true
 * </pre>
 * A browser's request is two checks ({@link #functionUrl}): anonymous, {@code
 * lambda:InvokeFunctionUrl}, context {@code lambda:FunctionUrlAuthType=NONE}: {@code url} applies,
 * allowed; then anonymous, {@code lambda:InvokeFunction}, context
 * {@code lambda:InvokedViaFunctionUrl=true}: {@code invoke} applies, allowed. The same anonymous
 * caller through the Invoke API has no {@code lambda:InvokedViaFunctionUrl} key: {@code invoke}'s
 * Bool condition fails, {@code url} is for another action, so it is an implicit deny. Without
 * {@code invoke} (a URL set up before October 2025), the second check is an implicit deny: 403.
 *
 * <p><b>Callers</b> hand it the function's statements as FunctionEntity keeps them (every
 * qualifier's: each applies only to its own ARN) and log {@link Decision#reason()} on a refusal:
 * <pre>{@code
 * PolicyEvaluator evaluator = new PolicyEvaluator(IdentityPolicies.UNRESTRICTED);
 * // a function URL request (AuthType NONE: anonymous; AWS_IAM: the signer)
 * Decision url = evaluator.functionUrl(policy, Caller.anonymous(), functionArn, "NONE");
 * // a push source: an EventBridge rule's target
 * Decision push = evaluator.serviceInvoke(policy, "events.amazonaws.com", functionArn, ruleArn, ruleAccount);
 * // anything else
 * Decision d = evaluator.evaluate(Statement.of(policy), Request.of(caller, INVOKE_FUNCTION, functionArn)
 *     .with(PRINCIPAL_ORG_ID, orgId));
 * }</pre>
 *
 * <p>Not modelled: {@code NotPrincipal}, {@code NotAction}, {@code NotResource}, policy variables
 * ({@code ${aws:username}} is compared literally), multivalued keys ({@code ForAnyValue:},
 * {@code ForAllValues:}), the {@code Null}, numeric, date and IP operators (a statement with one is
 * refused when built), permission boundaries, SCPs and session policies.
 */
public final class PolicyEvaluator {

  public static final String INVOKE_FUNCTION = "lambda:InvokeFunction";
  public static final String INVOKE_FUNCTION_URL = "lambda:InvokeFunctionUrl";

  public static final String SOURCE_ARN = "aws:SourceArn";
  public static final String SOURCE_ACCOUNT = "aws:SourceAccount";
  public static final String PRINCIPAL_ORG_ID = "aws:PrincipalOrgID";
  public static final String EVENT_SOURCE_TOKEN = "lambda:EventSourceToken";
  public static final String FUNCTION_URL_AUTH_TYPE = "lambda:FunctionUrlAuthType";
  public static final String INVOKED_VIA_FUNCTION_URL = "lambda:InvokedViaFunctionUrl";

  private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");

  /** Who makes the request. */
  public sealed interface Caller {

    /** A request without credentials, as a function URL with {@code AuthType NONE} receives. */
    record Anonymous() implements Caller {}

    /** An account's own principal (its root), or a caller known only by its account. */
    record Account(String accountId) implements Caller {
      public Account {
        Objects.requireNonNull(accountId, "accountId");
      }
    }

    /**
     * An IAM user, role or assumed-role session, by its ARN ({@code arn:aws:iam::<id>:user/alice},
     * {@code arn:aws:sts::<id>:assumed-role/deployer/session}).
     */
    record Iam(String arn) implements Caller {
      public Iam {
        if (Arn.parse(arn) == null) {
          throw new IllegalArgumentException("Not an ARN: " + arn);
        }
      }
    }

    /** An AWS service calling on its own behalf, such as {@code events.amazonaws.com}. */
    record Service(String name) implements Caller {
      public Service {
        Objects.requireNonNull(name, "name");
      }
    }

    static Caller anonymous() {
      return new Anonymous();
    }

    static Caller account(String accountId) {
      return new Account(accountId);
    }

    static Caller iam(String arn) {
      return new Iam(arn);
    }

    static Caller service(String name) {
      return new Service(name);
    }
  }

  /**
   * One request to decide: {@code resource} is the function's ARN as the caller named it (with
   * {@code :<alias>} or {@code :<version>} when it named one); {@code context} its condition keys.
   */
  public record Request(Caller caller, String action, String resource, Map<String, String> context) {

    public Request {
      Objects.requireNonNull(caller, "caller");
      Objects.requireNonNull(action, "action");
      Objects.requireNonNull(resource, "resource");
      TreeMap<String, String> keys = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      if (context != null) {
        context.forEach((k, v) -> {
          if (v != null) {
            keys.put(k, v);
          }
        });
      }
      context = Collections.unmodifiableMap(keys);
    }

    public static Request of(Caller caller, String action, String resource) {
      return new Request(caller, action, resource, Map.of());
    }

    /** This request with one more context key; a null value adds nothing. */
    public Request with(String key, String value) {
      Map<String, String> keys = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      keys.putAll(context);
      keys.put(key, value);
      return new Request(caller, action, resource, keys);
    }
  }

  public enum Effect { ALLOW, DENY }

  /** One principal of a statement: everyone ({@code *}), an {@code AWS} principal, or a service. */
  public record Principal(Kind kind, String id) {

    public enum Kind { ANYONE, AWS, SERVICE }

    public Principal {
      Objects.requireNonNull(kind, "kind");
      id = kind == Kind.ANYONE ? "*" : Objects.requireNonNull(id, "id");
    }

    public static final Principal ANYONE = new Principal(Kind.ANYONE, "*");

    public static Principal aws(String accountOrArn) {
      return new Principal(Kind.AWS, accountOrArn);
    }

    public static Principal service(String name) {
      return new Principal(Kind.SERVICE, name);
    }
  }

  /** One key of one operator of a statement's {@code Condition}, with its values. */
  public record Condition(String operator, String key, List<String> values) {

    private static final Set<String> OPERATORS = Set.of("StringEquals", "StringNotEquals",
        "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike", "ArnEquals",
        "ArnLike", "ArnNotEquals", "ArnNotLike", "Bool");

    public Condition {
      String base = operator.endsWith("IfExists") ? operator.substring(0, operator.length() - 8) : operator;
      if (!OPERATORS.contains(base)) {
        throw new IllegalArgumentException("Condition operator " + operator + " is not supported; supported are "
            + new TreeSet<>(OPERATORS) + ", each also with IfExists");
      }
      Objects.requireNonNull(key, "key");
      if (values == null || values.isEmpty()) {
        throw new IllegalArgumentException("Condition " + operator + " " + key + " has no value");
      }
      values = List.copyOf(values);
    }

    public Condition(String operator, String key, String value) {
      this(operator, key, List.of(value));
    }

    private String base() {
      return operator.endsWith("IfExists") ? operator.substring(0, operator.length() - 8) : operator;
    }

    private boolean negated() {
      return base().contains("Not");
    }

    /** Whether it holds for {@code context} (keys compared without regard to case). */
    boolean holds(Map<String, String> context) {
      String actual = context.get(key);
      if (actual == null) {
        return negated() || operator.endsWith("IfExists");
      }
      boolean any = values.stream().anyMatch(v -> matches(v, actual));
      return negated() != any;
    }

    private boolean matches(String expected, String actual) {
      return switch (base()) {
        case "StringEquals", "StringNotEquals" -> expected.equals(actual);
        case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase" -> expected.equalsIgnoreCase(actual);
        case "StringLike", "StringNotLike" -> glob(expected, actual, false);
        case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike" -> Arn.like(expected, actual);
        case "Bool" -> expected.equalsIgnoreCase(actual);
        default -> throw new IllegalStateException(operator);
      };
    }

    @Override
    public String toString() {
      return operator + " " + key + " " + (values.size() == 1 ? values.get(0) : values);
    }
  }

  /** One statement of a resource-based policy; {@code sid} may be null, as IAM's Sid is optional. */
  public record Statement(String sid, Effect effect, List<Principal> principals, List<String> actions,
                          List<String> resources, List<Condition> conditions) {

    public Statement {
      Objects.requireNonNull(effect, "effect");
      principals = nonEmpty(principals, "Principal");
      actions = nonEmpty(actions, "Action");
      resources = nonEmpty(resources, "Resource");
      conditions = conditions == null ? List.of() : List.copyOf(conditions);
    }

    /**
     * The IAM statement an AddPermission statement stands for, as GetPolicy shows it: principal
     * {@code *}, an account id (as {@code arn:aws:iam::<id>:root}), an ARN or a service; {@code
     * ArnLike AWS:SourceArn}; {@code StringEquals} on {@code AWS:SourceAccount},
     * {@code aws:PrincipalOrgID}, {@code lambda:EventSourceToken} and
     * {@code lambda:FunctionUrlAuthType}; {@code Bool lambda:InvokedViaFunctionUrl true}.
     */
    public static Statement of(PolicyStatement s) {
      Principal principal;
      if (s.principal().equals("*")) {
        principal = Principal.ANYONE;
      } else if (ACCOUNT_ID.matcher(s.principal()).matches() || s.principal().startsWith("arn:")) {
        principal = Principal.aws(s.principal());
      } else {
        principal = Principal.service(s.principal());
      }
      List<Condition> conditions = new ArrayList<>();
      if (s.sourceArn() != null) {
        conditions.add(new Condition("ArnLike", "AWS:SourceArn", s.sourceArn()));
      }
      if (s.sourceAccount() != null) {
        conditions.add(new Condition("StringEquals", "AWS:SourceAccount", s.sourceAccount()));
      }
      if (s.principalOrgId() != null) {
        conditions.add(new Condition("StringEquals", PRINCIPAL_ORG_ID, s.principalOrgId()));
      }
      if (s.eventSourceToken() != null) {
        conditions.add(new Condition("StringEquals", EVENT_SOURCE_TOKEN, s.eventSourceToken()));
      }
      if (s.functionUrlAuthType() != null) {
        conditions.add(new Condition("StringEquals", FUNCTION_URL_AUTH_TYPE, s.functionUrlAuthType()));
      }
      if (s.invokedViaFunctionUrl()) {
        conditions.add(new Condition("Bool", INVOKED_VIA_FUNCTION_URL, "true"));
      }
      return new Statement(s.sid(), Effect.ALLOW, List.of(principal), List.of(s.action()), List.of(s.resource()),
          conditions);
    }

    /** The statements a function's policy holds, as FunctionEntity keeps them (every qualifier's). */
    public static List<Statement> of(List<PolicyStatement> policy) {
      return policy.stream().map(Statement::of).toList();
    }

    private static <T> List<T> nonEmpty(List<T> list, String element) {
      if (list == null || list.isEmpty()) {
        throw new IllegalArgumentException("A statement needs a " + element);
      }
      return List.copyOf(list);
    }

    private String name(int index) {
      return sid == null ? "#" + (index + 1) : sid;
    }
  }

  /** What a caller's own identity-based policies allow, asked only for IAM principals (not anonymous, not services). */
  @FunctionalInterface
  public interface IdentityPolicies {

    /**
     * Tributary until it has identities: every signing key may do anything in its account, as the
     * Lambda API lets every configured key do anything today.
     */
    IdentityPolicies UNRESTRICTED = request -> true;

    boolean allow(Request request);
  }

  /** The answer, with a sentence saying why for the log. */
  public sealed interface Decision {

    Request request();

    boolean allowed();

    String reason();
  }

  /** An {@code Allow} statement applies and nothing denies. */
  public record AllowedByStatement(Request request, String sid) implements Decision {

    @Override
    public boolean allowed() {
      return true;
    }

    @Override
    public String reason() {
      return describe(request) + ": allowed by statement " + sid;
    }
  }

  /** A caller of the function's own account, allowed by its identity-based policies; nothing denies. */
  public record AllowedByIdentity(Request request, String account) implements Decision {

    @Override
    public boolean allowed() {
      return true;
    }

    @Override
    public String reason() {
      return describe(request) + ": allowed by the caller's identity in the function's own account " + account;
    }
  }

  /** A {@code Deny} statement applies: it wins over every {@code Allow}. */
  public record ExplicitDeny(Request request, String sid) implements Decision {

    @Override
    public boolean allowed() {
      return false;
    }

    @Override
    public String reason() {
      return describe(request) + ": denied by statement " + sid;
    }
  }

  /** Nothing allows: no {@code Allow} statement applies, or what applies is not enough for this caller. */
  public record ImplicitDeny(Request request, String why) implements Decision {

    @Override
    public boolean allowed() {
      return false;
    }

    @Override
    public String reason() {
      return describe(request) + ": not allowed: " + why;
    }
  }

  private final IdentityPolicies identities;

  public PolicyEvaluator(IdentityPolicies identities) {
    this.identities = Objects.requireNonNull(identities, "identities");
  }

  /** Decides {@code request} against {@code statements} (a whole policy: every qualifier's statements may be given). */
  public Decision evaluate(List<Statement> statements, Request request) {
    String allowedBy = null;
    for (int i = 0; i < statements.size(); i++) {
      Statement s = statements.get(i);
      if (mismatch(s, request) == APPLIES) {
        if (s.effect() == Effect.DENY) {
          return new ExplicitDeny(request, s.name(i));
        }
        allowedBy = allowedBy == null ? s.name(i) : allowedBy;
      }
    }
    String functionAccount = Arn.account(request.resource());
    String callerAccount = callerAccount(request.caller());
    if (callerAccount == null) {
      return allowedBy != null ? new AllowedByStatement(request, allowedBy)
          : new ImplicitDeny(request, noStatement(statements, request));
    }
    if (callerAccount.equals(functionAccount)) {
      if (allowedBy != null) {
        return new AllowedByStatement(request, allowedBy);
      }
      return identities.allow(request) ? new AllowedByIdentity(request, functionAccount)
          : new ImplicitDeny(request, "its identity-based policies do not allow it and "
              + noStatement(statements, request));
    }
    if (allowedBy == null) {
      return new ImplicitDeny(request, "a caller of account " + callerAccount + ", not the function's account "
          + functionAccount + ", needs a statement, and " + noStatement(statements, request));
    }
    return identities.allow(request) ? new AllowedByStatement(request, allowedBy)
        : new ImplicitDeny(request, "statement " + allowedBy + " allows it, but a caller of another account also "
            + "needs its own identity-based policies to allow it, and they do not");
  }

  /**
   * A request to a function URL, as AWS checks it since October 2025: {@code lambda:InvokeFunctionUrl}
   * with {@code lambda:FunctionUrlAuthType} set to the URL's {@code authType}, then
   * {@code lambda:InvokeFunction} with {@code lambda:InvokedViaFunctionUrl} {@code true}. The first
   * decision that does not allow, else the second. {@code functionArn} is the ARN of what the URL
   * is on: the unqualified function for {@code $LATEST}, {@code fn:alias} for an alias.
   */
  public Decision functionUrl(List<PolicyStatement> policy, Caller caller, String functionArn, String authType) {
    List<Statement> statements = Statement.of(policy);
    Decision url = evaluate(statements, Request.of(caller, INVOKE_FUNCTION_URL, functionArn)
        .with(FUNCTION_URL_AUTH_TYPE, authType));
    if (!url.allowed()) {
      return url;
    }
    return evaluate(statements, Request.of(caller, INVOKE_FUNCTION, functionArn)
        .with(INVOKED_VIA_FUNCTION_URL, "true"));
  }

  /**
   * An AWS service invoking the function on behalf of one of its resources (a push source):
   * EventBridge ({@code events.amazonaws.com}, {@code sourceArn} the rule's ARN), SNS
   * ({@code sns.amazonaws.com}, the topic's), S3 ({@code s3.amazonaws.com}, the bucket's), with
   * {@code sourceAccount} the account that owns that resource. A null source adds no key.
   */
  public Decision serviceInvoke(List<PolicyStatement> policy, String service, String functionArn, String sourceArn,
                                String sourceAccount) {
    return evaluate(Statement.of(policy), Request.of(Caller.service(service), INVOKE_FUNCTION, functionArn)
        .with(SOURCE_ARN, sourceArn).with(SOURCE_ACCOUNT, sourceAccount));
  }

  private static final int APPLIES = -1;
  private static final int PRINCIPAL = -2;
  private static final int ACTION = -3;
  private static final int RESOURCE = -4;

  /**
   * The first part of {@code s} that does not match {@code request}: {@link #PRINCIPAL},
   * {@link #ACTION}, {@link #RESOURCE} or the index of the condition; {@link #APPLIES} if none.
   */
  private static int mismatch(Statement s, Request request) {
    if (s.principals().stream().noneMatch(p -> principalMatches(p, request.caller()))) {
      return PRINCIPAL;
    }
    if (s.actions().stream().noneMatch(a -> glob(a, request.action(), true))) {
      return ACTION;
    }
    if (s.resources().stream().noneMatch(r -> r.equals("*") || Arn.like(r, request.resource()))) {
      return RESOURCE;
    }
    for (int i = 0; i < s.conditions().size(); i++) {
      if (!s.conditions().get(i).holds(request.context())) {
        return i;
      }
    }
    return APPLIES;
  }

  /** Why no statement allows {@code request}: each Allow statement and the first part of it that did not match. */
  private static String noStatement(List<Statement> statements, Request request) {
    if (statements.isEmpty()) {
      return "the function has no resource-based policy";
    }
    List<String> reasons = new ArrayList<>();
    for (int i = 0; i < statements.size(); i++) {
      Statement s = statements.get(i);
      int part = mismatch(s, request);
      if (s.effect() == Effect.ALLOW && part != APPLIES) {
        reasons.add(s.name(i) + " " + switch (part) {
          case PRINCIPAL -> "is for principal "
              + String.join(", ", s.principals().stream().map(Principal::id).toList());
          case ACTION -> "is for action " + String.join(", ", s.actions());
          case RESOURCE -> "is for resource " + String.join(", ", s.resources());
          default -> {
            Condition c = s.conditions().get(part);
            String actual = request.context().get(c.key());
            yield "needs " + c + (actual == null ? " (the request has no " + c.key() + ")" : " (got " + actual + ")");
          }
        });
      }
    }
    return reasons.isEmpty() ? "no Allow statement" : "no statement allows it (" + String.join("; ", reasons) + ")";
  }

  private static boolean principalMatches(Principal p, Caller caller) {
    return switch (p.kind()) {
      case ANYONE -> true;
      case SERVICE -> caller instanceof Caller.Service s && s.name().equals(p.id());
      case AWS -> awsPrincipalMatches(p.id(), caller);
    };
  }

  /** An account (id or root ARN) covers its principals; a user or role ARN itself, a role also its sessions. */
  private static boolean awsPrincipalMatches(String principal, Caller caller) {
    String account = callerAccount(caller);
    if (account == null) {
      return false;
    }
    if (principal.equals("*")) {
      return true;
    }
    if (ACCOUNT_ID.matcher(principal).matches()) {
      return principal.equals(account);
    }
    Arn p = Arn.parse(principal);
    if (p == null) {
      return false;
    }
    if (p.resource().equals("root")) {
      return p.account().equals(account);
    }
    if (!(caller instanceof Caller.Iam iam)) {
      return false;
    }
    if (principal.equals(iam.arn())) {
      return true;
    }
    Arn c = Arn.parse(iam.arn());
    // arn:aws:sts::<id>:assumed-role/<role>/<session> is a session of arn:aws:iam::<id>:role/[path/]<role>.
    if (p.service().equals("iam") && p.resource().startsWith("role/") && c.service().equals("sts")
        && c.resource().startsWith("assumed-role/") && p.account().equals(c.account())) {
      String role = p.resource().substring(p.resource().lastIndexOf('/') + 1);
      String[] session = c.resource().split("/", 3);
      return session.length == 3 && session[1].equals(role);
    }
    return false;
  }

  private static String callerAccount(Caller caller) {
    if (caller instanceof Caller.Account a) {
      return a.accountId();
    }
    return caller instanceof Caller.Iam i ? Arn.parse(i.arn()).account() : null;
  }

  private static String describe(Request r) {
    Caller c = r.caller();
    String who = c instanceof Caller.Account a ? "account " + a.accountId()
        : c instanceof Caller.Iam i ? i.arn()
        : c instanceof Caller.Service s ? s.name()
        : "anonymous";
    return who + " " + r.action() + " on " + r.resource() + (r.context().isEmpty() ? "" : " " + r.context());
  }

  /**
   * Whether {@code value} matches {@code pattern}, where {@code *} is any run of characters and
   * {@code ?} any one character (IAM's wildcards; no escapes).
   */
  static boolean glob(String pattern, String value, boolean ignoreCase) {
    if (ignoreCase) {
      pattern = pattern.toLowerCase(Locale.ROOT);
      value = value.toLowerCase(Locale.ROOT);
    }
    int p = 0;
    int v = 0;
    int star = -1;
    int resume = 0;
    while (v < value.length()) {
      if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == value.charAt(v))) {
        p++;
        v++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        resume = v;
      } else if (star >= 0) {
        p = star + 1;
        v = ++resume;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }

  /** The six parts of an ARN; the resource part keeps its own colons ({@code function:orders:live}). */
  private record Arn(String partition, String service, String region, String account, String resource) {

    static Arn parse(String arn) {
      if (arn == null) {
        return null;
      }
      String[] parts = arn.split(":", 6);
      return parts.length == 6 && parts[0].equals("arn") ? new Arn(parts[1], parts[2], parts[3], parts[4], parts[5])
          : null;
    }

    static String account(String arn) {
      Arn a = parse(arn);
      return a == null ? null : a.account();
    }

    /** ArnLike: each part matched on its own, case-sensitively, with wildcards that stay within it. */
    static boolean like(String pattern, String value) {
      String[] p = pattern.split(":", 6);
      String[] v = value.split(":", 6);
      if (p.length != 6 || v.length != 6) {
        return false;
      }
      for (int i = 0; i < 6; i++) {
        if (!glob(p[i], v[i], false)) {
          return false;
        }
      }
      return true;
    }
  }
}
