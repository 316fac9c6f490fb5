import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One bad field of a `validation_error`. */
export class FieldErrorView {
  @ApiProperty({
    description: 'The field, dotted for nested ones; `(body)` for the body itself.',
    example: 'reason',
  })
  field!: string;

  @ApiProperty({ example: 'reason must be longer than or equal to 3 characters' })
  message!: string;
}

/** An error answer: RFC 9457 problem+json with a stable `code` (what the mapper in problem.ts sends). */
export class ProblemView {
  @ApiProperty({ example: 'https://tally.dev/problems/validation_error' })
  type!: string;

  @ApiProperty({ description: 'The HTTP status, in words.', example: 'Bad Request' })
  title!: string;

  @ApiProperty({ type: 'integer', example: 400 })
  status!: number;

  @ApiProperty({ description: 'What went wrong, for a person.', example: 'The request is not valid.' })
  detail!: string;

  @ApiProperty({ description: 'Stable, for programs.', pattern: '^[a-z_]+$', example: 'validation_error' })
  code!: string;

  @ApiPropertyOptional({ type: [FieldErrorView], description: 'With `validation_error`: every bad field.' })
  errors?: FieldErrorView[];

  @ApiProperty({
    description: 'The X-Request-Id of the request, for support.',
    example: '0f8e4a6c-2b1d-4c3e-9f70-5a6b7c8d9e0f',
  })
  requestId!: string;
}
