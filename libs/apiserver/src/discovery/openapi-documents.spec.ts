import { openApiV3Document, openApiV3Paths } from './openapi-documents';

describe('OpenAPI v3 documents', () => {
  it('indexes every group-version we serve', () => {
    expect(Object.keys(openApiV3Paths()).sort()).toEqual([
      'api/v1',
      'apis/apps/v1',
      'apis/autoscaling/v2',
      'apis/coordination.k8s.io/v1',
    ]);
  });

  it('names each kind with its group-version-kind and offers fieldValidation on PATCH', () => {
    const document = openApiV3Document('apis/apps/v1') as {
      paths: Record<
        string,
        { patch?: { parameters: Array<{ name: string }>; 'x-kubernetes-group-version-kind': object } }
      >;
      components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: object[] }> };
    };
    expect(
      document.components.schemas['io.k8s.api.apps.v1.Deployment']?.['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    const patch = document.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.patch;
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    });
    expect(patch?.parameters.map((parameter) => parameter.name)).toContain('fieldValidation');
    expect(openApiV3Document('apis/batch/v1')).toBeUndefined();
  });
});
