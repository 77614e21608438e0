/** MeshRegistry on the one table: a service's versions and splits share its partition (table.ts). */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DeclaredDependencies } from '../../domain/dependencies.js';
import { VersionConflictError } from '../../domain/errors.js';
import type { GroupSplit, RegisteredVersion } from '../../domain/mesh.js';
import type { MeshRegistry, ServiceState } from '../../ports/mesh-registry.js';
import { isConditionFailure, queryAll, storeFailure, type TableHandle } from './client.js';
import { indexes, keys } from './table.js';

const REVISION_GUARD = {
  create: 'attribute_not_exists(pk)',
  replace: 'attribute_exists(pk) AND #revision = :expected',
} as const;

export class DynamoDbMeshRegistry implements MeshRegistry {
  constructor(private readonly table: TableHandle) {}

  async getService(service: string): Promise<ServiceState | undefined> {
    const items = await queryAll(
      this.table,
      { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.service(service) }, ConsistentRead: true },
      `read mesh state of service ${service}`,
    );
    const versions = items.filter((item) => item['entity'] === 'version').map((item) => item['registration'] as RegisteredVersion);
    const splits = items.filter((item) => item['entity'] === 'split').map((item) => item['split'] as GroupSplit);
    // The partition may hold the service's declared dependencies alone: that is no registration.
    if (versions.length === 0 && splits.length === 0) return undefined;
    return { service, versions, splits };
  }

  async getDependencies(service: string): Promise<DeclaredDependencies | undefined> {
    try {
      const answer = await this.table.documents.send(new GetCommand({ TableName: this.table.tableName, Key: keys.serviceDependencies(service), ConsistentRead: true }));
      return answer.Item ? (answer.Item['declared'] as DeclaredDependencies) : undefined;
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `read the dependencies of ${service}`);
    }
  }

  async putDependencies(declared: DeclaredDependencies): Promise<void> {
    const item = { ...keys.serviceDependencies(declared.service), entity: 'dependencies', revision: declared.revision, declared };
    await this.guardedPut(item, declared.revision, `declare the dependencies of ${declared.service}`);
  }

  async putVersion(version: RegisteredVersion): Promise<void> {
    const item = {
      ...keys.registeredVersion(version.service, version.version),
      gsi2pk: keys.allRegisteredVersions,
      gsi2sk: `${version.service}#${version.version}`,
      entity: 'version',
      revision: version.revision,
      registration: version,
    };
    await this.guardedPut(item, version.revision, `register ${version.service}@${version.version}`);
  }

  async deleteVersion(service: string, version: string, expectedRevision: number): Promise<'deleted' | 'absent'> {
    let answer;
    try {
      answer = await this.table.documents.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: keys.registeredVersion(service, version),
          ConditionExpression: 'attribute_not_exists(pk) OR #revision = :expected',
          ExpressionAttributeNames: { '#revision': 'revision' },
          ExpressionAttributeValues: { ':expected': expectedRevision },
          ReturnValues: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError(`registration ${service}@${version}`, expectedRevision);
      throw storeFailure(error, this.table.tableName, `deregister ${service}@${version}`);
    }
    return answer.Attributes ? 'deleted' : 'absent';
  }

  async putSplit(split: GroupSplit): Promise<void> {
    const fence = split.fencingToken;
    const item = { ...keys.groupSplit(split.service, split.proxyGroup), entity: 'split', revision: split.revision, split, ...(fence !== undefined ? { fencingToken: fence } : {}) };
    // Fenced: a split written under a newer lock is never replaced by one carrying an older token,
    // nor by one carrying none (writers that are not deployments pass on the token they read).
    const fenceGuard =
      fence === undefined
        ? { condition: 'attribute_not_exists(#fence)', names: { '#fence': 'fencingToken' }, values: {} }
        : { condition: '(attribute_not_exists(#fence) OR #fence <= :fence)', names: { '#fence': 'fencingToken' }, values: { ':fence': fence } };
    await this.guardedPut(item, split.revision, `set the split of ${split.service} in ${split.proxyGroup}`, fenceGuard);
  }

  async listServices(): Promise<string[]> {
    const items = await queryAll(
      this.table,
      { IndexName: indexes.all, KeyConditionExpression: 'gsi2pk = :pk', ExpressionAttributeValues: { ':pk': keys.allRegisteredVersions }, ProjectionExpression: 'gsi2sk' },
      'list registered services',
    );
    const services = new Set(items.map((item) => String(item['gsi2sk']).split('#')[0]!));
    return [...services].sort();
  }

  async listServicesAfter(after: string | undefined, limit: number): Promise<{ services: string[]; more: boolean }> {
    // Index keys are `<service>#<version>`; a name's characters ([a-z0-9-]) all sort after `$`, and
    // `$` after `#`, so `> "<after>$"` starts at the first version of the next service.
    const services: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.table.documents.send(
          new QueryCommand({
            TableName: this.table.tableName,
            IndexName: indexes.all,
            KeyConditionExpression: after === undefined ? 'gsi2pk = :pk' : 'gsi2pk = :pk AND gsi2sk > :after',
            ExpressionAttributeValues: { ':pk': keys.allRegisteredVersions, ...(after === undefined ? {} : { ':after': `${after}$` }) },
            ProjectionExpression: 'gsi2sk',
            // A service has a few versions: twice the shard's services is one or two requests.
            Limit: limit * 2,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const service = String(item['gsi2sk']).split('#')[0]!;
          if (services.at(-1) !== service) services.push(service);
        }
        startKey = page.LastEvaluatedKey;
        // One service past the shard says whether there is more.
      } while (startKey && services.length <= limit);
    } catch (error) {
      throw storeFailure(error, this.table.tableName, 'list a shard of registered services');
    }
    return { services: services.slice(0, limit), more: services.length > limit };
  }

  private async guardedPut(item: Record<string, unknown>, revision: number, verb: string, extra?: { condition: string; names: Record<string, string>; values: Record<string, unknown> }): Promise<void> {
    const creating = revision === 1;
    const names = { ...(creating ? {} : { '#revision': 'revision' }), ...(extra && !creating ? extra.names : {}) };
    const values = { ...(creating ? {} : { ':expected': revision - 1 }), ...(extra && !creating ? extra.values : {}) };
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: item,
          // Creating: nothing stored, so nothing to fence against.
          ConditionExpression: creating ? REVISION_GUARD.create : `${REVISION_GUARD.replace}${extra ? ` AND ${extra.condition}` : ''}`,
          ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
          ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError(verb, revision - 1);
      throw storeFailure(error, this.table.tableName, verb);
    }
  }
}
