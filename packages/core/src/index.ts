export { requestContextMiddleware } from './context/express-middleware.ts';
export type {
  ContextRequest,
  NextFunction,
  RequestContextMiddleware,
  RequestContextMiddlewareOptions,
} from './context/express-middleware.ts';
export { bindRequestContext, getRequestContext, withRequestContext } from './context/request-context.ts';
export type { RequestContext, RequestContextInit } from './context/request-context.ts';
export { isValidRequestId, requestIdFromHeaders, traceIdFromTraceparent } from './context/request-id.ts';
export type { HeaderSource, RequestIdSource, ResolvedRequestId } from './context/request-id.ts';
export type { EgressGrant } from './egress/allow-list.ts';
export { describeDestination, parseDestination } from './egress/destination.ts';
export type { Destination, DestinationInput } from './egress/destination.ts';
export { EGRESS_CHANNEL, getEgressLockdown, installEgressLockdown } from './egress/egress-lockdown.ts';
export type { EgressLockdown, InstallEgressLockdownOptions, InstalledBy, JournalLike } from './egress/egress-lockdown.ts';
export type { WorkerPolicy } from './egress/egress-policy.ts';
export { EgressRefusedError } from './egress/egress-refused-error.ts';
export type { RefusedAttempt } from './egress/egress-refused-error.ts';
export type { CoreErrorCode } from './errors/error-codes.ts';
export { MirrorGuardError } from './errors/mirrorguard-error.ts';
export type { MirrorGuardErrorOptions } from './errors/mirrorguard-error.ts';
export { JOURNAL_ACTIONS } from './journal/journal-event.ts';
export type { Dependency, JournalAction, JournalEntry, JournalEvent, JournalSink } from './journal/journal-event.ts';
export { createJournal, EFFECT_CHANNEL, Journal } from './journal/journal.ts';
export type { JournalOptions } from './journal/journal.ts';
export { jsonlFileSink, JsonlFileSink } from './journal/jsonl-file-sink.ts';
export { memorySink, MemorySink } from './journal/memory-sink.ts';
export type { MemorySinkOptions } from './journal/memory-sink.ts';
export { warnAtStartUp } from './journal/safety-warning.ts';
export { createRedactor } from './redact/create-redactor.ts';
export type { RedactOptions, Redactor } from './redact/create-redactor.ts';
export { REDACTED } from './redact/redaction-rules.ts';
export { DEFAULT_FORM_SECRET_KEYS, DEFAULT_SECRET_KEYS, normalizeKey } from './redact/secret-keys.ts';
export type { SecretKey } from './redact/secret-keys.ts';
export { DEFAULT_SECRET_VALUES } from './redact/secret-values.ts';
export { isProfile, PROFILES, resolveProfile } from './profile/resolve-profile.ts';
export type { Profile, ProfileEnv } from './profile/resolve-profile.ts';
export { createGuards } from './provider/create-guards.ts';
export type { CreateGuardsOptions, EgressOptions, GuardInstances, Guards, ProviderMap } from './provider/create-guards.ts';
export { defineProvider, isProvider } from './provider/define-provider.ts';
export type {
  BuildFunction,
  CloseFunction,
  ProfileImplementation,
  Provider,
  ProviderContext,
  ProviderDefinition,
} from './provider/define-provider.ts';
export { diffJournals } from './diff/diff-journals.ts';
export type { DiffOptions, DifferenceKind, EffectDifference, EndpointSummary, JournalDiff, RequestDiff } from './diff/diff-journals.ts';
export { normalizeOperation, operationShape } from './diff/normalize-operation.ts';
export type { OperationNormalizer } from './diff/normalize-operation.ts';
export { readJournal } from './diff/read-journal.ts';
export { summarizeJournal } from './diff/summarize-journal.ts';
export type { JournalSummary } from './diff/summarize-journal.ts';
