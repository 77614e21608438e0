/**
 * The reference bundle of `foundation/bundles`: a handler holding the DynamoDB document client and
 * nothing else, built with the functions' own options. What a function needs beyond its table is
 * measured against it (each AWS bundle ≤ 1.5× its cold import).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

let documents: DynamoDBDocumentClient | undefined;

export async function handler(event: { pk: string; sk: string }) {
  documents ??= DynamoDBDocumentClient.from(new DynamoDBClient({}));
  return documents.send(new GetCommand({ TableName: 'crossfade', Key: { pk: event.pk, sk: event.sk } }));
}
