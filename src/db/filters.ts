import type { ComparisonOperator, Expression, ExpressionBuilder, SelectType, SqlBool } from 'kysely';

/**
 * One condition of a list's filter on table `TB`: a column, an operator, and the value asked for
 * (typed as the column, or a list of them for `in`); an unset value puts no condition.
 */
export type Condition<DB, TB extends keyof DB> = {
  [C in keyof DB[TB] & string]: readonly [C, ComparisonOperator, SelectType<DB[TB][C]> | readonly SelectType<DB[TB][C]>[] | undefined];
}[keyof DB[TB] & string];

/** Whether a filter was given a value: not undefined, not '' (an empty query parameter), not an empty list. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0);
}

/**
 * The conditions whose value is set, joined by AND (none set: no condition). Every list narrows its
 * query this way, one line per filter field:
 *
 *     q.where((eb) => matching(eb, [['provider', '=', f.provider], ['received_at', '>=', f.since]]))
 */
export function matching<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, conditions: readonly Condition<DB, TB>[]): Expression<SqlBool> {
  const set = conditions.filter(([, , value]) => isSet(value));
  // kysely types a column reference and its value together; each pair was checked by Condition
  return eb.and(set.map(([column, op, value]) => eb(column as never, op, value as never)));
}
