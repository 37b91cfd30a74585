export { type BudgetCheck, type BudgetLimits, type BudgetUsage, checkBudgets } from "./budgets.ts";
export {
  type PolicyCaseMismatch,
  type PolicyCaseResult,
  type PolicyCasesReport,
  runPolicyCases,
} from "./cases.ts";
export { compilePolicy, MAX_POLICY_LENGTH, MAX_RULES } from "./compile.ts";
export { type CompiledCondition, compileCondition } from "./condition.ts";
export { FIELD_ROOTS, type FieldRoot } from "./field-path.ts";
export { compileGlob, type Glob, MAX_GLOB_LENGTH, MAX_GLOB_SUBJECT_LENGTH } from "./glob.ts";
export { globCovers, globsOverlap, type WorkBudget } from "./glob-relations.ts";
export { type GrantScope, outcomesInScope, reviewerGrantProblem, type ScopeOutcome } from "./grant-scope.ts";
export { PolicyError, type PolicyProblem } from "./problems.ts";
export { MAX_REGEX_LENGTH, MAX_REGEX_SUBJECT_LENGTH } from "./regex-safety.ts";
export * from "./types.ts";
