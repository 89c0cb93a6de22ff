// Types for the parts of supercluster 8 the dashboard uses (the package ships none).
declare module 'supercluster' {
  export interface PointFeature {
    type: 'Feature';
    properties: { i: number };
    geometry: { type: 'Point'; coordinates: [number, number] };
  }
  export interface ClusterFeature {
    type: 'Feature';
    id?: number;
    properties: { i?: number; cluster?: boolean; cluster_id?: number; point_count?: number };
    geometry: { type: 'Point'; coordinates: [number, number] };
  }
  export default class Supercluster {
    constructor(options?: { radius?: number; maxZoom?: number; minPoints?: number });
    load(points: PointFeature[]): this;
    getClusters(bbox: [number, number, number, number], zoom: number): ClusterFeature[];
    getClusterExpansionZoom(clusterId: number): number;
  }
}
