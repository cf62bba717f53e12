import './styles/mantine';
import './styles/app.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { loadConfig } from './config';

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');

loadConfig().then((config) => {
  createRoot(root).render(
    <StrictMode>
      <App config={config} />
    </StrictMode>,
  );
});
