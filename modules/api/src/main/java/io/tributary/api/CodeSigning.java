package io.tributary.api;

import java.util.regex.Pattern;

/**
 * Code signing, as far as Tributary goes: it cannot verify AWS Signer signatures, so it holds no
 * code signing configs and every function is unsigned. An unsigned function answers
 * GetFunctionCodeSigningConfig as on AWS ({@code CodeSigningConfigArn} empty), and anything that
 * names a config gets AWS's answer for a config that does not exist, after AWS's check of the ARN's
 * pattern (ValidationException): CreateFunction's {@code CodeSigningConfigArn} and
 * PutFunctionCodeSigningConfig get 404 {@code CodeSigningConfigNotFoundException}, the operations on
 * one config (Get, Update, Delete, ListFunctionsByCodeSigningConfig) 404
 * {@code ResourceNotFoundException}, as AWS's model declares and Terraform expects. Only
 * CreateCodeSigningConfig is refused outright, with 400 InvalidParameterValueException.
 */
public final class CodeSigning {

  private static final String ARN_REGEX =
      "arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:code-signing-config:csc-[a-z0-9]{17}";
  private static final Pattern ARN = Pattern.compile(ARN_REGEX);
  private static final String NOT_VERIFIED = "Tributary does not verify code signatures, so it holds no code signing "
      + "configs and runs every function unsigned";

  private CodeSigning() {}

  /** A code signing config's ARN, checked against AWS's pattern and length. */
  public static String arn(String arn) {
    if (arn == null) {
      throw LambdaException.validation(null, "codeSigningConfigArn", "Member must not be null");
    }
    if (arn.length() > 200 || !ARN.matcher(arn).matches()) {
      throw LambdaException.validation(arn, "codeSigningConfigArn",
          "Member must satisfy regular expression pattern: " + ARN_REGEX);
    }
    return arn;
  }

  /** AWS's 404 for a function given a config that does not exist, which here is every config. */
  public static LambdaException attachRefused(String arn) {
    return new LambdaException(404, "CodeSigningConfigNotFoundException", "The code signing configuration cannot be "
        + "found. Check that the provided configuration is not deleted: " + arn + ". " + NOT_VERIFIED
        + "; remove the code signing config from the request.");
  }

  /** AWS's 404 for an operation on a config that does not exist. */
  public static LambdaException notFound(String arn) {
    return LambdaException.notFound("Code signing config not found: " + arn + ". " + NOT_VERIFIED + ".");
  }

  /** CreateCodeSigningConfig's refusal. */
  public static LambdaException createRefused() {
    return LambdaException.invalidParameter(NOT_VERIFIED + ": a code signing config cannot be created here. Deploy "
        + "the function without one; sign and verify the package in your pipeline instead.");
  }
}
